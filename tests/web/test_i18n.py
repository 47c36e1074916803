"""Every text the UI shows has its Chinese translation; coded values have English text."""

from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from werkzeug import exceptions

from engine.apikeys import SCOPES
from engine.bundle import KINDS
from engine.identity import ROLES
from readmodels import CUSTOMER_MESSAGES
from web.formdata import PLAIN_MESSAGES
from web.formgen import enum_options
from web.i18n_catalogues import catalogue
from web.rendering import STEP_LABELS

WEB = Path(__file__).resolve().parents[2] / "web"
LITERAL = re.compile(r"""(?:\b_|\btranslate)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
STATES = ("received", "in_progress", "waiting_for_customer", "closed", "cancelled")
ZH = catalogue("zh")  # msgid → Chinese
ZH_CATALOGUE = "web/translations/zh/LC_MESSAGES/messages.po"
EN = catalogue("en")  # coded key → English
MILESTONES = ("received", "attached", "diagnosed", "quote", "approved", "scheduled", "parts_delayed", "repaired",
              "resolved", "closed", "survey", "cancelled", "escalated", "reminder", "reply")


def literal_texts() -> set[str]:
    found = set()
    for path in [*WEB.glob("**/templates/**/*.html"), *WEB.glob("**/*.py")]:
        for a, b in LITERAL.findall(path.read_text(encoding="utf-8")):
            found.add(a or b)
    return {t for t in found if not t.endswith(":")} - {"English text"}


def form_texts() -> set[str]:
    texts: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("title", "ui:help", "description"):
                if isinstance(node.get(key), str):
                    texts.add(node[key])
            if "enum" in node or "oneOf" in node:
                texts.update(label for _value, label in enum_options(node) if not label.isdigit())
            for value in node.values():
                walk(value)

    for path in (WEB / "forms").glob("*.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return texts - {"中文", "English", "CNY", "EUR"}


def coded_texts() -> set[str]:
    return ({f"state:{s}" for s in STATES} | {f"action:{m}" for m in CUSTOMER_MESSAGES}
            | {f"milestone:{m}" for m in MILESTONES} | {f"milestone:answered:{m}" for m in CUSTOMER_MESSAGES})


def test_every_literal_text_has_a_chinese_translation():
    missing = sorted((literal_texts() | {text for _pattern, text in PLAIN_MESSAGES}) - ZH.keys())
    assert not missing, f"add the Chinese of these texts to web/translations/zh/LC_MESSAGES/messages.po: {missing}"


def test_every_form_label_and_option_has_a_chinese_translation():
    missing = sorted(form_texts() - ZH.keys())
    assert not missing, missing


def test_coded_texts_have_english_and_chinese():
    texts = coded_texts()
    assert not sorted(texts - EN.keys())
    assert not sorted(texts - ZH.keys())
    assert not sorted(set(STEP_LABELS.values()) - ZH.keys())


def test_placeholders_survive_translation():
    for english, chinese in ZH.items():
        assert set(re.findall(r"{\w+}", english)) == set(re.findall(r"{\w+}", chinese)), english


# Text a template shows without ``_()``: what is left once Jinja, scripts, code and tags are gone.
JINJA = re.compile(r"\{#.*?#\}|\{%\s*block\s+\w+_class\s*%\}.*?\{%\s*endblock\s*%\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
UNSHOWN = re.compile(r"<(script|style|code|pre|svg)\b.*?</\1>", re.S | re.I)
SHOWN_ATTRIBUTE = re.compile(r'(?<![\w-])(?:placeholder|aria-label|title|alt)="([^"]*)"')
TAG = re.compile(r"<[^>]*>", re.S)
ATTRIBUTES_ONLY = re.compile(r'[\w-]+="')  # a macro that writes a tag's attributes, not text
WORD = re.compile(r"[A-Za-z]{2,}")
#: words the same in both languages, and sample values (an integration name, a ticket number)
SAME_IN_BOTH = {"SLA", "CSV", "JSON", "UTC", "SHA", "API", "BPMN", "DMN", "VIP", "QA", "KPI", "CSAT", "NPS"}
SAMPLES = {"website", "AS-20260302-00001", "English"}
#: templates of other areas that still show bare English (issue 14); remove a name once it is done
NOT_YET_TRANSLATED: set[str] = set()


def bare_texts(template: str) -> list[str]:
    """Return the texts a template shows that are not passed through ``_()``."""
    text = UNSHOWN.sub(" ", JINJA.sub(" ", template))
    texts = [*SHOWN_ATTRIBUTE.findall(text), *TAG.sub("\n", text).split("\n")]
    return sorted({t.strip() for t in texts if set(WORD.findall(t)) - SAME_IN_BOTH and t.strip() not in SAMPLES
                   and not ATTRIBUTES_ONLY.search(t)})


def templates() -> dict[str, Path]:
    """Every template of the app and its blueprints, by its name under its ``templates`` folder."""
    return {path.as_posix().split("/templates/", 1)[1]: path for path in WEB.glob("**/templates/**/*.html")}


def test_templates_show_no_text_without_translation():
    bare = {name: texts for name, path in sorted(templates().items())
            if name not in NOT_YET_TRANSLATED and (texts := bare_texts(path.read_text(encoding="utf-8")))}
    assert not bare, f"pass these texts through _() and add their Chinese to {ZH_CATALOGUE}: {bare}"


def test_the_list_of_templates_not_yet_translated_is_current():
    done = {name for name in NOT_YET_TRANSLATED if not bare_texts(templates()[name].read_text(encoding="utf-8"))}
    assert not done, f"these templates are translated now; remove them from NOT_YET_TRANSLATED: {done}"


def test_the_bare_text_check_finds_untranslated_headings_labels_and_placeholders():
    page = """{% block title %}{{ _("Instances") }}{% endblock %}{% block main_class %}narrow{% endblock %}
<h1>Trace of {{ row.ticket }}</h1><label>{{ _("From") }} <input placeholder="Reason for it" name="x"></label>
<input data-t-placeholder="deploy_note"><code>aftersales audit verify</code><span>{{ row.status }}</span> · SLA"""
    assert bare_texts(page) == ["Reason for it", "Trace of"]


# A script's own texts: ``t("English")`` calls in web/static/js and ``N_('English')`` marks in the
# editor's sources (web/frontend/src), whose Chinese is in the gettext catalogue of domain ``js``.
SCRIPT_KEYWORDS = ((WEB / "static" / "js", "t"), (WEB / "frontend" / "src", "N_"))


def script_texts() -> set[str]:
    """Every text the browser scripts mark for translation, as ``pybabel extract`` finds them."""
    found = set()
    for directory, keyword in SCRIPT_KEYWORDS:
        for _file, _line, message, _comments, _context in extract_from_dir(
                directory, method_map=[("**.js", "javascript")], keywords={keyword: None}, comment_tags=()):
            found.add(message)
    return found


def test_every_script_text_has_its_chinese_in_the_js_catalogue():
    texts = script_texts()
    assert {"Run {n}: {actor}", "Files", "Sequence Flow", "hours"} <= texts  # trace, editor, bpmn-js, units
    missing = sorted(texts - catalogue("zh", "js").keys())
    assert not missing, f"add the Chinese of these texts to web/translations/zh/LC_MESSAGES/js.po: {missing}"


def test_the_js_catalogues_placeholders_survive_translation():
    for english, chinese in catalogue("zh", "js").items():
        assert set(re.findall(r"{\w+}", english)) == set(re.findall(r"{\w+}", chinese)), english


def test_api_scopes_roles_and_standard_error_texts_have_chinese():
    texts = set(SCOPES.values()) | {f"role:{role}" for role in ROLES}
    texts |= {cls.description for cls in (exceptions.BadRequest, exceptions.Unauthorized, exceptions.Forbidden,
                                           exceptions.NotFound, exceptions.MethodNotAllowed, exceptions.Conflict,
                                           exceptions.RequestEntityTooLarge, exceptions.UnprocessableEntity,
                                           exceptions.TooManyRequests, exceptions.InternalServerError,
                                           exceptions.ServiceUnavailable)}
    assert not sorted(texts - ZH.keys())
    assert not sorted({f"role:{role}" for role in ROLES} - EN.keys())


def test_every_kind_of_deployed_file_and_definition_has_english_and_chinese():
    kinds = {f"kind:{kind}" for kind in [*KINDS.values(), "other", "process", "decision"]}
    assert not sorted(kinds - EN.keys())
    assert not sorted(kinds - ZH.keys())
