"""Loading the demo catalogue (``processes/data/*.json``) into the handlers' tables.

Loading is idempotent: catalogue rows are inserted or updated by their natural keys, and
stock is set only where a part has no stock row yet, so loading again (every start of
``aftersales run``) never undoes reservations or restocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidInput

from .diagnosis import load_rules
from .dispatch import load_providers, load_technicians
from .knowledge import load_articles
from .parts import load_parts
from .quote import load_rates
from .warranty import load_contracts, load_product_lines

DATA_DIR = Path(__file__).resolve().parent.parent / "processes" / "data"


def _loaders(now: datetime) -> list[tuple[str, Callable[[Session, Any], int]]]:
    # Order matters: models before contracts, warehouses and parts before anything reserving.
    return [
        ("product_lines.json", lambda s, d: load_product_lines(s, d["product_lines"])),
        ("contracts.json", lambda s, d: load_contracts(s, d["contracts"])),
        ("parts.json", load_parts),
        ("rates.json", load_rates),
        ("technicians.json", load_technicians),
        ("providers.json", load_providers),
        ("diagnosis_rules.json", load_rules),
        ("knowledge.json", lambda s, d: load_articles(s, d["articles"], now)),
    ]


def load_catalogue(session: Session, folder: Path = DATA_DIR) -> dict[str, int]:
    """Load every catalogue file of ``folder`` that exists; return how many records each held."""
    counts: dict[str, int] = {}
    for name, load in _loaders(clock.now()):
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            counts[name] = load(session, data)
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("{path}: {type}: {exc}",
                               path=str(path), params={"path": path, "type": type(exc).__name__, "exc": exc}) from exc
        session.flush()
    return counts


#: catalogue fields that carry a translation beside them: ``name`` → ``name_zh`` …
TRANSLATED_FIELDS = ("name", "title", "cause", "action")
_SNAKE_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
#: data files whose words name KPI things only (figures, drill-downs, the definition pages):
#: analytics.catalogue gives the dashboard their names, and keys such as ``all``, ``open`` or
#: ``name`` must not shadow the UI's own words (messages.po) on other pages
KPI_WORDS = ("kpi_catalogue.json",)


def catalogue_texts(folder: Path = DATA_DIR, language: str = "zh") -> dict[str, str]:
    """Return what readers in ``language`` see for the catalogue's words (English text → text).

    A record names itself in another language beside the English field (``name_zh`` next
    to ``name``, ``title_zh`` next to ``title``, ``cause_zh`` / ``action_zh`` on diagnosis
    rules); symptom labels are ``{"en": …, "zh": …}``. A record's lower-case code (region
    ``east``, skill ``refrigerant_handling``) reads as its name; a model reads as
    ``model:<code>`` → its name (in English too), so pages can name a model by its code.
    The KPI catalogue (:data:`KPI_WORDS`) is left out: its words name KPI figures only.
    """
    return dict(_catalogue_texts(folder, language))


@cache
def _catalogue_texts(folder: Path, language: str) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name in KPI_WORDS:
            continue
        try:
            _collect(json.loads(path.read_text(encoding="utf-8")), language, out, None)
        except ValueError:
            continue  # a broken file is reported by load_catalogue
    return tuple(out.items())


def _collect(value: Any, language: str, out: dict[str, str], key: str | None) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, language, out, key)
        return
    if not isinstance(value, dict):
        return
    if isinstance(value.get("en"), str) and isinstance(value.get(language), str):
        if language != "en":
            out[value["en"]] = value[language]
        if key and _SNAKE_CODE.fullmatch(key):  # a symptom's code reads as its label, in English too
            out.setdefault(key, value[language])
    for name in TRANSLATED_FIELDS:
        text, translated = value.get(name), value.get(f"{name}_{language}")
        if isinstance(text, str) and isinstance(translated, str) and translated.strip():
            out[text] = translated
    code, name = value.get("code"), value.get(f"name_{language}") or value.get("name")
    if isinstance(code, str) and isinstance(name, str):
        if "models" not in value and isinstance(value.get("full_months"), int):
            out[f"model:{code}"] = name
        elif language != "en" and _SNAKE_CODE.fullmatch(code):
            out.setdefault(code, name)
    for child_key, child in value.items():
        _collect(child, language, out, child_key)
