"""Coded answers of the bundle's forms said in words (``called_back`` → "Called the customer back" → 已回电客户).

A form's choice stores its code (``const``); the ticket page lists people's answers as notes, and a
code among them reads as the option's title (from the bundle's ``forms/*.schema.json``), which the
bundle's translations say in the reader's language.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from . import get_services
from .i18n import translate


def said_answer(value: Any) -> str | None:
    """Return a form answer that is one of the bundle's option codes in the reader's words; else None."""
    if not isinstance(value, str) or not value or not value.isascii() or " " in value:
        return None
    title = option_titles(get_services().settings.processes_dir / "forms").get(value)
    return translate(title) if title else None


def option_titles(folder: Path) -> dict[str, str]:
    """Return each option code of the forms in ``folder`` → its English title (the first form's, by name)."""
    try:
        stamp = max((p.stat().st_mtime for p in folder.glob("*.schema.json")), default=0.0)
    except OSError:
        return {}
    return _titles(folder, stamp)


@cache
def _titles(folder: Path, stamp: float) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.schema.json")):
        try:
            _collect(json.loads(path.read_text(encoding="utf-8")), found)
        except (OSError, ValueError):
            continue  # a broken form is the validator's to report
    return found


def _collect(node: Any, found: dict[str, str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
    elif isinstance(node, dict):
        for option in node.get("oneOf") or []:
            code, title = (option.get("const"), option.get("title")) if isinstance(option, dict) else (None, None)
            if isinstance(code, str) and isinstance(title, str):
                found.setdefault(code, title)
        for child in node.values():
            if isinstance(child, (dict, list)):
                _collect(child, found)
