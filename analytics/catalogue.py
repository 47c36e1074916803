"""The KPI catalogue: what every figure of the dashboard measures, in English and Chinese.

Data, beside the targets: ``processes/data/kpi_catalogue.json`` names each figure and gives
its definition, population (which tickets count), formula, statistic, unit, target (a key of
``kpi.json``'s targets), the events it is computed from and what it excludes.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().parent.parent / "processes" / "data" / "kpi_catalogue.json"
TEXT_FIELDS = ("name", "definition", "population", "formula", "excludes")
LANGUAGES = ("en", "zh")


@cache
def _entries() -> dict[str, dict[str, Any]]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))["figures"]


def figure_keys() -> list[str]:
    """Return the keys of the figures the catalogue defines."""
    return list(_entries())


def entry(key: str, language: str = "en") -> dict[str, Any]:
    """Return one figure's definition with its texts in ``language`` (English where missing)."""
    raw = _entries().get(key)
    if raw is None:
        raise KeyError(f"no KPI named {key!r} in the catalogue; known: {', '.join(_entries())}")
    out = {k: v for k, v in raw.items() if k not in TEXT_FIELDS}
    for name in TEXT_FIELDS:
        texts = raw[name]
        out[name] = texts.get(language) or texts["en"]
    events = _section("events")  # an event's words by its key; a key without words reads as itself
    out["events"] = [(events.get(event) or {}).get(language) or (events.get(event) or {}).get("en") or event
                     for event in raw.get("events", [])]
    out["key"] = key
    return out


def names(language: str = "en") -> dict[str, str]:
    """Return every figure's name in ``language``."""
    return {key: entry(key, language)["name"] for key in _entries()}


@cache
def _section(name: str) -> dict[str, dict[str, str]]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8")).get(name, {})


def drill_names(language: str = "en") -> dict[str, str]:
    """Return the readable name of every drill-down (which tickets a list shows) in ``language``."""
    return {key: texts.get(language) or texts["en"] for key, texts in _section("drills").items()}


def ui_texts(language: str = "en") -> dict[str, str]:
    """Return the words of the definition pages and headings in ``language``."""
    return {key: texts.get(language) or texts["en"] for key, texts in _section("ui").items()}
