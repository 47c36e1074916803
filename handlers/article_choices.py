"""The ``articles`` pick list of forms: published knowledge articles by id, titled in English and Chinese.

A form field naming it (``"x-catalogue": "articles"``, e.g. the article an agent used to answer the
customer) offers the articles and refuses an id that is not one of them, on its field.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.forms import Choice, catalogue

from .demo import DATA_DIR
from .knowledge import Article


@cache
def _other_titles(path: Path) -> dict[str, str]:
    """Return each catalogue article's title → its title in the other language (``title_zh`` / ``title_en``)."""
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    entries = entries if isinstance(entries, list) else entries.get("articles", [])
    return {e["title"]: e.get("title_zh") or e.get("title_en") or e["title"] for e in entries if "title" in e}


@catalogue("articles")
def articles(session: Session) -> list[Choice]:
    """Published knowledge articles, by id, each titled in English and Chinese where the catalogue has both."""
    other = _other_titles(DATA_DIR / "knowledge.json")
    choices = []
    for a in session.scalars(select(Article).where(Article.status == "published").order_by(Article.id)):
        english, chinese = (a.title, other.get(a.title, a.title)) if a.language != "zh" else \
            (other.get(a.title, a.title), a.title)
        choices.append(Choice(str(a.id), f"{english} ({a.id})", f"{chinese} ({a.id})"))
    return choices
