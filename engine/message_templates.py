"""Message templates: the texts staff pick when they write to a customer, shipped with the bundle.

A bundle lists its templates in ``templates/message/index.json`` (name → ``title`` the staff see,
optional ``description``) and writes each one per language as
``templates/message/<name>.<language>.j2``: English and every language the bundle declares with a
``translations.<language>.json``. The first line may be ``Subject: …`` (used on e-mail). The text
is Jinja with only the placeholders of :data:`PLACEHOLDERS`, filled from the ticket in the
customer's language when an agent picks the template. :func:`lint_message_templates` is
``aftersales validate``'s check: a missing language, an unknown placeholder or a template Jinja
cannot read is an error naming the template, the file and the placeholder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from .bundle import Bundle
from .errors import finding
from .lint_translations import declared_languages

FOLDER = "templates/message"
INDEX = f"{FOLDER}/index.json"
BASE_LANGUAGE = "en"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_FILE = re.compile(rf"^{FOLDER}/([^/]+)\.([A-Za-z_-]+)\.j2$")

#: the placeholders a message template may use → what each holds (filled from the ticket)
PLACEHOLDERS: dict[str, str] = {
    "customer_name": "the customer's name",
    "ticket_number": "the ticket number, e.g. AS-20260302-00001",
    "product_model": "the product's model code",
    "product_name": "the model's name in the customer's language",
    "serial_number": "the product's serial number",
    "appointment_start": "the open visit's start, local time (YYYY-MM-DD HH:MM)",
    "appointment_end": "the open visit's end, local time (HH:MM)",
    "technician_name": "the visiting technician's name",
    "parts_eta": "the date the back-ordered parts are expected (YYYY-MM-DD)",
    "agent_name": "the name of the staff member who sends the message",
    "status_link": "the customer's status page (no login): follow the request, add information or a photo",
}

Add = Callable[..., None]


def template_path(name: str, language: str) -> str:
    """Return the bundle path of template ``name`` in ``language``."""
    return f"{FOLDER}/{name}.{language}.j2"


def read_index(raw: bytes | str) -> dict[str, dict[str, str]]:
    """Return the templates listed in an index file (name → title, description); ValueError if malformed."""
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("must be an object of template name → {\"title\": …}")
    out: dict[str, dict[str, str]] = {}
    for name, entry in value.items():
        if not _NAME.match(str(name)):
            raise ValueError(f"template name {name!r} must be lower case letters, digits and _")
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) or not entry["title"].strip():
            raise ValueError(f"template {name!r} needs a \"title\" (text)")
        out[name] = {"title": entry["title"], "description": str(entry.get("description") or "")}
    return out


def split_subject(text: str) -> tuple[str, str]:
    """Split a template's rendered text into its ``Subject:`` line (or "") and its body."""
    first, _sep, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first.removeprefix("Subject:").strip(), rest.strip()
    return "", text.strip()


def placeholders_of(source: str) -> set[str]:
    """Return the variables a template reads; TemplateSyntaxError when Jinja cannot read it."""
    return set(meta.find_undeclared_variables(SandboxedEnvironment().parse(source)))


def lint_message_templates(bundle: Bundle, add: Add) -> None:
    """Report every message template that lacks a language, uses an unknown placeholder or does not parse."""
    files = {p: c for p, c in bundle.files.items() if p.startswith(f"{FOLDER}/")}
    if not files:
        return
    if INDEX not in files:
        add(INDEX, finding("message templates need an index: {index} (name → {{\"title\": …}})", index=INDEX),
            rule="message-templates")
        return
    try:
        index = read_index(files[INDEX])
    except (ValueError, UnicodeDecodeError) as exc:
        add(INDEX, finding("not a valid template index: {detail}", detail=str(exc)), rule="message-templates")
        return
    _lint_titles(bundle, index, add)
    languages = [BASE_LANGUAGE, *(lang for lang in declared_languages(bundle) if lang != BASE_LANGUAGE)]
    for name in index:
        for language in languages:
            if template_path(name, language) not in files:
                add(INDEX, finding("message template '{name}' has no {language} text: add {file}", name=name,
                                   language=language, file=template_path(name, language)),
                    name, rule="message-templates")
    for path, content in sorted(files.items()):
        if path == INDEX:
            continue
        match = _FILE.match(path)
        if match is None or match.group(1) not in index:
            add(path, finding("not a message template of {index}: name files <template>.<language>.j2 and list the "
                              "template in the index", index=INDEX), rule="message-templates")
            continue
        _lint_file(path, match.group(1), content, add)


def _lint_file(path: str, name: str, content: bytes, add: Add) -> None:
    try:
        used = placeholders_of(content.decode("utf-8"))
    except UnicodeDecodeError:
        add(path, finding("message template '{name}' is not UTF-8 text", name=name), name, rule="message-templates")
        return
    except TemplateSyntaxError as exc:
        add(path, finding("message template '{name}' line {line}: {detail}", name=name, line=exc.lineno,
                          detail=exc.message), name, exc.lineno,
            rule="message-templates")
        return
    for placeholder in sorted(used - PLACEHOLDERS.keys()):
        add(path, finding("message template '{name}' uses unknown placeholder '{placeholder}'; known: {known}",
                          name=name, placeholder=placeholder, known=", ".join(PLACEHOLDERS)), name,
            rule="message-templates")


def _lint_titles(bundle: Bundle, index: dict[str, dict[str, str]], add: Add) -> None:
    """Warn about a template title or description a declared language has no translation for."""
    for language, path in declared_languages(bundle).items():
        try:
            table = json.loads(bundle.files[path])
        except ValueError:
            continue  # reported by the translations check
        for name, entry in index.items():
            for text in (entry["title"], entry["description"]):
                if text and isinstance(table, dict) and text not in table:
                    add(INDEX, finding("no {language} translation ({file}) for message template '{name}': '{text}'",
                                       language=language, file=path, name=name, text=text),
                        name, rule="message-templates", severity="warning")
