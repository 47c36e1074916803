"""Loading the demo catalogue (``processes/data/*.json``) into the handlers' tables.

Loading is idempotent: catalogue rows are inserted or updated by their natural keys, and
stock is set only where a part has no stock row yet, so loading again (every start of
``aftersales run``) never undoes reservations or restocks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
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
            raise InvalidInput(f"{path}: {type(exc).__name__}: {exc}", path=str(path)) from exc
        session.flush()
    return counts
