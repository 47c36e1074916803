"""Reading a draft as a process owner does: problems located, differences from a version, pick lists.

* :func:`locate` adds the DMN row (and decision) or the form field a validation problem is about.
* :func:`compare` lists files added, removed and changed against a deployed version, then what
  changed inside them: decision-table rows (by rule id), form fields (by property path) and
  translation keys. BPMN elements are compared in the browser from the two XMLs.
* :func:`bundle_index` lists what a bundle defines, for the editor's pick lists.
* :func:`operators` describes the registered handlers (names, typed parameters, docs) from the
  handlers themselves; :func:`translations` lists a bundle's texts with their translations.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from .bundle import Bundle
from .errors import InvalidInput, Problem
from .lint_translations import bundle_texts
from .projection import role_for_lane
from .registry import all_handlers

_TRANSLATIONS = re.compile(r"(?:^|/)translations\.[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?\.json$")
_SCHEMA_PATH = re.compile(r"/properties/([^/\s:]+)")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _xml(content: bytes) -> Any | None:
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError:
        return None


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def dmn_rows(content: bytes) -> Iterator[dict[str, Any]]:
    """Yield each decision-table row of a DMN file: decision, row (1-based), rule id, inputs, outputs."""
    root = _xml(content)
    if root is None:
        return
    for decision in root.iter():
        if _local(decision) != "decision":
            continue
        for table in decision:
            if _local(table) != "decisionTable":
                continue
            rules = [r for r in table if _local(r) == "rule"]
            for number, rule in enumerate(rules, start=1):
                cells = {"inputs": [], "outputs": [], "description": ""}
                for cell in rule:
                    name = _local(cell)
                    text = "".join(t.text or "" for t in cell if _local(t) == "text").strip()
                    if name == "inputEntry":
                        cells["inputs"].append(text)
                    elif name == "outputEntry":
                        cells["outputs"].append(text)
                    elif name == "description":
                        cells["description"] = (cell.text or "").strip()
                yield {"decision": decision.get("id"), "row": number, "rule_id": rule.get("id"),
                       "cell_ids": [c.get("id") for c in rule if c.get("id")], **cells}


def form_fields(content: bytes) -> dict[str, Any]:
    """Return ``{field path: definition}`` of a form schema (properties, nested with '.') or UI schema."""
    value = _json(content)
    fields: dict[str, Any] = {}
    if not isinstance(value, dict):
        return fields

    def walk(schema: Any, prefix: str) -> None:
        if not isinstance(schema, dict):
            return
        for name, child in (schema.get("properties") or {}).items():
            path = f"{prefix}.{name}" if prefix else name
            fields[path] = {k: v for k, v in child.items() if k not in ("properties", "items")} \
                if isinstance(child, dict) else child
            walk(child, path)
            if isinstance(child, dict) and isinstance(child.get("items"), dict):
                walk(child["items"], f"{path}[]")

    if isinstance(value.get("properties"), dict):
        walk(value, "")
    else:  # a UI schema: one entry per field, "ui:" keys are the form's own
        fields.update({k: v for k, v in value.items() if not k.startswith("ui:")})
    return fields


def locate(bundle: Bundle, problem: Problem) -> dict[str, Any]:
    """Return a problem as JSON, with its DMN row and decision or its form field where they can be found."""
    out = problem.to_dict()
    content = bundle.files.get(problem.file)
    if content is None:
        return out
    if problem.file.endswith(".dmn") and problem.element_id:
        for row in dmn_rows(content):
            if problem.element_id == row["rule_id"] or problem.element_id in row["cell_ids"]:
                out.update(row=row["row"], decision=row["decision"])
                break
    elif problem.file.endswith(".json"):
        fields = form_fields(content)
        found = _SCHEMA_PATH.findall(problem.message)
        if problem.element_id in fields:
            out["field"] = problem.element_id
        elif found:
            out["field"] = ".".join(found)
    return out


def compare(draft: dict[str, bytes], deployed: dict[str, bytes]) -> dict[str, Any]:
    """Return what a draft changes against a deployed version: files, DMN rows, form fields, translations."""
    files = [{"path": p, "status": _status(deployed.get(p), draft.get(p))}
             for p in sorted(set(draft) | set(deployed))]
    dmn: list[dict[str, Any]] = []
    forms: list[dict[str, Any]] = []
    translations: list[dict[str, Any]] = []
    for entry in files:
        path, status = entry["path"], entry["status"]
        if status == "same":
            continue
        before, after = deployed.get(path, b""), draft.get(path, b"")
        if path.endswith(".dmn"):
            dmn += _rows_changed(path, before, after)
        elif _TRANSLATIONS.search(path):
            translations += _keys_changed(path, "key", _dict(before), _dict(after))
        elif path.endswith(".json"):
            forms += _keys_changed(path, "field", form_fields(before), form_fields(after))
    return {"files": files, "dmn_rows": dmn, "form_fields": forms, "translations": translations}


def _status(before: bytes | None, after: bytes | None) -> str:
    if before is None:
        return "added"
    if after is None:
        return "removed"
    return "same" if before == after else "changed"


def _dict(content: bytes) -> dict[str, Any]:
    value = _json(content) if content else {}
    return value if isinstance(value, dict) else {}


def _keys_changed(path: str, name: str, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        if key not in before:
            out.append({"file": path, name: key, "status": "added", "before": None, "after": new})
        elif key not in after:
            out.append({"file": path, name: key, "status": "removed", "before": old, "after": None})
        elif old != new:
            out.append({"file": path, name: key, "status": "changed", "before": old, "after": new})
    return out


def _rows_changed(path: str, before: bytes, after: bytes) -> list[dict[str, Any]]:
    def table(content: bytes) -> dict[tuple[str, str], dict[str, Any]]:
        rows = dmn_rows(content) if content else iter(())
        return {(r["decision"], r["rule_id"] or f"row {r['row']}"): r for r in rows}

    def shown(row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        return {"rule_id": row["rule_id"], "inputs": row["inputs"], "outputs": row["outputs"],
                "description": row["description"]}

    old, new = table(before), table(after)
    out = []
    for key in sorted(set(old) | set(new), key=lambda k: (str(k[0]), (new.get(k) or old[k])["row"])):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and shown(a) == shown(b):
            continue
        status = "added" if a is None else "removed" if b is None else "changed"
        out.append({"file": path, "decision": key[0], "row": (b or a or {})["row"], "status": status,
                    "before": shown(a), "after": shown(b)})
    return out


def bundle_index(files: dict[str, bytes]) -> dict[str, list[str]]:
    """Return what a bundle defines for pick lists: processes, decisions, forms, messages, roles, signals."""
    index: dict[str, set[str]] = {k: set() for k in ("processes", "decisions", "forms", "messages", "roles",
                                                      "signals")}
    for path, content in files.items():
        if path.endswith(".json") and "properties" in _dict(content):
            index["forms"].add(path)
        if not path.endswith((".bpmn", ".dmn")):
            continue
        root = _xml(content)
        if root is None:
            continue
        for el in root.iter():
            name = _local(el)
            if name == "process" and el.get("id"):
                index["processes"].add(el.get("id"))
            elif name == "decision" and el.get("id"):
                index["decisions"].add(el.get("id"))
            elif name in ("message", "signal") and el.get("name"):
                index[f"{name}s"].add(el.get("name"))
            elif name == "lane" and role_for_lane(el.get("name")):
                index["roles"].add(str(role_for_lane(el.get("name"))))
    return {k: sorted(v) for k, v in index.items()}


_PARAM_DOC = re.compile(r"^\s*(?::param\s+)?(\w+)(?:\s*\([^)]*\))?\s*:\s+(.+)$")


def operators() -> list[dict[str, Any]]:
    """Describe every registered handler: name, doc, and parameters with type, default and doc."""
    out = []
    for name, handler in all_handlers().items():
        doc = inspect.getdoc(handler.func) or ""
        documented = {m.group(1): m.group(2).strip() for m in map(_PARAM_DOC.match, doc.splitlines()[1:]) if m}
        signature = inspect.signature(handler.func)
        parameters = []
        for p in handler.parameters:
            default = signature.parameters[p.name].default
            parameters.append({"name": p.name, "type": p.annotation or "any", "required": p.required,
                               "default": None if p.required else _jsonable(default),
                               "doc": documented.get(p.name, "")})
        out.append({"name": name, "doc": handler.doc, "details": doc, "parameters": parameters,
                    "accepts_more": handler.accepts_any})
    return out


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def translations(bundle: Bundle, lang: str) -> dict[str, Any]:
    """Return the texts of a bundle a person reads, each with its ``lang`` translation, and how many lack one."""
    if not re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?", lang or ""):
        raise InvalidInput("'{lang}' is not a language code (en, zh, zh-TW …)", field="lang", params={"lang": lang})
    path = next((p for p in sorted(bundle.files) if p.rsplit("/", 1)[-1] == f"translations.{lang}.json"), None)
    table = _dict(bundle.files[path]) if path else {}
    trees = {p: root for p, c in bundle.files.items() if p.endswith(".bpmn") and (root := _xml(c)) is not None}
    entries: dict[str, dict[str, Any]] = {}
    for file, where, what, key in bundle_texts(bundle, trees):
        if key in entries:
            continue
        text = table.get(key, key if lang == "en" and not key.startswith("instructions:") else None)
        entries[key] = {"key": key, "kind": what, "where": f"{file} · {where}" if where else file,
                        "text": text if isinstance(text, str) and text.strip() else None}
    missing = sum(1 for e in entries.values() if e["text"] is None) if lang != "en" else 0
    return {"lang": lang, "file": path or f"translations.{lang}.json", "entries": list(entries.values()),
            "missing": missing}
