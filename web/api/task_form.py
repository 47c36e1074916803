"""``GET /api/v1/tasks/<id>/form``: a task's form for integrations that build their own screen.

The JSON Schema and uiSchema are the task's own files of its deployment, with every text a
person reads (titles, descriptions, option labels — ``enumNames`` added to a string
``enum`` that has none —, help, placeholders) in the requested
language — ``?lang=`` else ``Accept-Language`` else English — from the bundle's
``translations.<lang>.json`` and the app's own words, as the task page shows them. The
data is the task's current data, masked for the caller's roles as on the task page.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

import readmodels

from .. import get_services
from ..i18n import LANGUAGES
from ..i18n_catalogues import texts
from ..rendering import code_words
from . import body, bp, openapi
from .auth import identify, requires

#: keys of a JSON Schema and of a uiSchema whose values are words a person reads
SCHEMA_TEXT = ("title", "description")
UI_TEXT = ("ui:title", "ui:help", "ui:description", "ui:placeholder")


def requested_language() -> str:
    """Return the language asked for: ``?lang=`` (400 if unknown), else ``Accept-Language``, else ``en``."""
    chosen = body.query_choice("lang", LANGUAGES)
    if chosen:
        return chosen
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-TW", "zh-Hans"], default="en")
    return "zh" if best and best.startswith("zh") else "en"


def translated(value: Any, words: dict[str, str], ui: bool = False) -> Any:
    """Return a copy of a schema (or uiSchema, ``ui=True``) with its readable texts looked up in ``words``."""
    if isinstance(value, list):
        return [translated(item, words, ui) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    options = value.get("enum")
    if not ui and isinstance(options, list) and "enumNames" not in value and all(isinstance(o, str) for o in options):
        out["enumNames"] = [words.get(o, code_words(o)) for o in options]
    for key, item in value.items():
        if isinstance(item, str) and key in (UI_TEXT if ui else SCHEMA_TEXT):
            out[key] = words.get(item, item)
        elif key in ("enumNames", "ui:enumNames") and isinstance(item, list):
            out[key] = [words.get(name, name) if isinstance(name, str) else name for name in item]
        elif key in ("enum", "const", "default", "examples", "required", "pattern"):
            out[key] = item  # values, not words
        else:
            out[key] = translated(item, words, ui)
    return out


@bp.get("/tasks/<task_id>/form")
@requires("tasks:read")
def get_task_form(task_id: str):  # type: ignore[no-untyped-def]
    """Return a ready task's JSON Schema and uiSchema in the requested language, with its data (masked)."""
    body.path_match(task_id, openapi.UUID, "task")
    language = requested_language()
    services = get_services()
    with services.db.transaction(write=False) as s:
        detail = readmodels.task_detail(s, services.runtime.specs, identify().actor, task_id, language)
    words = {**texts(language), **detail.texts}
    response = jsonify(
        task_id=task_id, name=words.get(detail.item.name, detail.item.name), role=detail.item.role,
        business_key=detail.item.business_key, language=language,
        schema=translated(detail.schema, words) if detail.schema else None,
        ui_schema=translated(detail.ui_schema, words, ui=True), data=detail.shown)
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response
