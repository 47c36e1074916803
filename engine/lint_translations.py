"""Translations: what a bundle's ``translations.<lang>.json`` leave out.

A bundle declares a language by shipping ``translations.<lang>.json`` (English text →
text in that language; a task's instructions under ``instructions:<element id>``). Every
text a person reads from the bundle needs an entry: element names (tasks, events,
gateways, flows, subprocesses — the stages — processes, participants, lanes), the
instructions of user tasks, and each form's title, descriptions, labels, help,
placeholders and option labels (an option without a title shows its code, so the code is
the key). A missing entry is a warning naming the file and the element or form field; an
entry that is not text is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .bundle import Bundle
from .errors import finding
from .lint_xml import BPMN_NS, SPIFF_NS, Report, local, owner_id

_FILE = re.compile(r"(?:^|/)translations\.([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\.json$")
_LETTERS = re.compile(r"[A-Za-z]")
_CODE = re.compile(r"^(?:[A-Z0-9]+(?:[-_.][A-Z0-9]+)*|__\w+)$")  # WM-F80, __targetRef_placeholder: no words
_SCHEMA_TEXT = ("title", "description")
_UI_TEXT = ("ui:title", "ui:help", "ui:description", "ui:placeholder")
_FORM_KEYS = ("formJsonSchemaFilename", "formUiSchemaFilename")


def declared_languages(bundle: Bundle) -> dict[str, str]:
    """Return ``{language: path}`` of the translation files a bundle ships."""
    found: dict[str, str] = {}
    for path in sorted(bundle.files):
        match = _FILE.search(path)
        if match:
            found.setdefault(match.group(1), path)
    return found


def bundle_texts(bundle: Bundle, trees: dict[str, Any]) -> Iterator[tuple[str, str | None, str, str]]:
    """Yield ``(file, element or field, what, key)`` for every text of the bundle a person reads."""
    forms: dict[str, str] = {}  # form file → the element that shows it
    for path, root in sorted(trees.items()):
        if not path.endswith(".bpmn"):
            continue
        for el in root.iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}"):
                continue
            name = (el.get("name") or "").strip()
            if _words(name):
                yield path, el.get("id"), f"name of the {local(el)}", name
        for node in root.iter(f"{{{SPIFF_NS}}}instructionsForEndUser"):
            element = owner_id(node)
            if (node.text or "").strip() and element:
                yield path, element, "instructions", f"instructions:{element}"
        for prop in root.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name") in _FORM_KEYS and prop.get("value"):
                forms.setdefault(prop.get("value"), owner_id(prop) or "")
    for form in sorted(forms):
        path = _form_path(bundle, form)
        if path is None:
            continue  # reported by the forms check
        try:
            value = json.loads(bundle.files[path])
        except ValueError:
            continue  # reported by the JSON check
        texts = _ui_texts(value, "") if "uischema" in form else _schema_texts(value, "")
        for where, what, key in texts:
            yield path, where or forms[form], what, key


def check_translations(bundle: Bundle, trees: dict[str, Any], add: Report) -> None:
    """Warn about every text a declared language has no translation for."""
    languages = declared_languages(bundle)
    if not languages:
        return
    wanted = list(bundle_texts(bundle, trees))
    for language, path in languages.items():
        try:
            table = json.loads(bundle.files[path])
        except ValueError as exc:
            add(path, finding("not valid JSON: {detail}", detail=str(exc)), rule="translations")
            continue
        if not isinstance(table, dict):
            add(path, finding("must be an object of English text → translated text"), rule="translations")
            continue
        for key, text in table.items():
            if not isinstance(text, str) or not text.strip():
                add(path, finding("the translation of '{key}' must be a non-empty text", key=key), rule="translations")
        seen: set[tuple[str, str | None, str]] = set()
        for file, where, what, key in wanted:
            if key in table or (file, where, key) in seen:
                continue
            seen.add((file, where, key))
            if key.startswith("instructions:"):
                message = finding("no {language} translation ({file}) for the instructions of the {what}",
                                  language=language, file=path, what=what)
            else:
                message = finding("no {language} translation ({file}) for the {what}: '{text}'", language=language,
                                  file=path, what=what, text=key)
            add(file, message, where, rule="translations", severity="warning")


def _words(text: Any) -> bool:
    """Tell whether ``text`` is words a person reads (not empty, not a bare code like ``WM-F80``)."""
    return isinstance(text, str) and bool(_LETTERS.search(text)) and not _CODE.match(text.strip())


def _form_path(bundle: Bundle, name: str) -> str | None:
    if name in bundle.files:
        return name
    matches = [p for p in sorted(bundle.files) if p.endswith(f"/{name}")]
    return matches[0] if matches else None


def _schema_texts(schema: Any, where: str) -> Iterator[tuple[str, str, str]]:
    if not isinstance(schema, dict):
        return
    for key in _SCHEMA_TEXT:
        if _words(schema.get(key)):
            yield where, key if where else f"form {key}", schema[key]
    yield from _option_texts(schema, where)
    for name, child in (schema.get("properties") or {}).items():
        yield from _schema_texts(child, f"{where}.{name}" if where else name)
    for key in ("definitions", "$defs"):
        for name, child in (schema.get(key) or {}).items():
            yield from _schema_texts(child, f"#{key}/{name}")
    if isinstance(schema.get("items"), dict):
        yield from _schema_texts(schema["items"], f"{where}[]")
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key) or []:
            if isinstance(child, dict) and "const" not in child:
                yield from _schema_texts(child, where)
    for key in ("if", "then", "else"):
        yield from _schema_texts(schema.get(key), where)


def _option_texts(schema: dict[str, Any], where: str) -> Iterator[tuple[str, str, str]]:
    names = schema.get("enumNames")
    if isinstance(names, list):
        for name in names:
            if _words(name):
                yield where, "option", name
        return
    for key in ("oneOf", "anyOf"):
        for choice in schema.get(key) or []:
            if isinstance(choice, dict) and "const" in choice:
                label = choice.get("title", choice["const"])
                if _words(label):
                    yield where, "option", label
    for value in schema.get("enum") or []:
        if _words(value):
            yield where, "option", value


def _ui_texts(ui: Any, where: str) -> Iterator[tuple[str, str, str]]:
    if not isinstance(ui, dict):
        return
    for key in _UI_TEXT:
        if _words(ui.get(key)):
            yield where, key, ui[key]
    for name, child in ui.items():
        if not name.startswith("ui:") and isinstance(child, dict):
            yield from _ui_texts(child, (f"{where}[]" if name == "items" else f"{where}.{name}" if where else name))
