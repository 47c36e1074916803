"""Every text the UI shows has its Chinese translation; coded values have English text."""

from __future__ import annotations

import json
import re
from pathlib import Path

from readmodels import CUSTOMER_MESSAGES
from web.formdata import PLAIN_MESSAGES
from web.formgen import enum_options
from web.i18n_en import EN
from web.i18n_zh import ZH
from web.rendering import STEP_LABELS

WEB = Path(__file__).resolve().parents[2] / "web"
LITERAL = re.compile(r"""(?:\b_|\btranslate)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
STATES = ("received", "in_progress", "waiting_for_customer", "closed", "cancelled")
MILESTONES = ("received", "attached", "diagnosed", "quote", "approved", "scheduled", "parts_delayed", "repaired",
              "resolved", "closed", "survey", "cancelled", "escalated", "reminder")


def literal_texts() -> set[str]:
    found = set()
    for path in [*WEB.glob("templates/**/*.html"), *WEB.glob("*.py")]:
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
    assert not missing, f"add the Chinese of these texts to web/i18n_zh.py: {missing}"


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
