"""Knowledge-base articles in the reader's language.

An article of the catalogue (``processes/data/knowledge.json``) is written in its own language
(``title``/``body``) and says itself in the other beside it (``title_zh``/``body_zh`` on an English
article, ``title_en``/``body_en`` on a Chinese one). A suggestion stored in a ticket's data keeps the
article's own words; pages say it with :func:`said_article`. An article without a translation (a
draft written from a ticket) is shown as written, marked with its language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from handlers.knowledge import EXCERPT_CHARS

from . import get_services
from .i18n import LANGUAGES, current_language

#: characters of a translated excerpt per language (a Chinese character says about two English letters' worth)
EXCERPT = {"en": EXCERPT_CHARS, "zh": EXCERPT_CHARS // 2}


def said_article(article: Mapping[str, Any], excerpt_only: bool = True) -> dict[str, Any]:
    """Return an article (``title``, ``excerpt`` or ``body``, ``language``) in the reader's words when the
    catalogue has them; else as written."""
    said = dict(article)
    language = current_language()
    if article.get("language") == language:
        return said
    found = _translations(_catalogue_file(), language).get(str(article.get("title") or ""))
    if found is None:
        return said
    title, body = found
    said.update(title=title, language=language)
    if excerpt_only:
        if article.get("excerpt"):
            size = EXCERPT.get(language, EXCERPT_CHARS)
            said["excerpt"] = body[:size].rstrip() + ("…" if len(body) > size else "")
    else:
        said["body"] = body
    return said


def _catalogue_file() -> Path:
    return get_services().settings.processes_dir / "data" / "knowledge.json"


@cache
def _read(path: Path, stamp: float) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8")).get("articles", []))


def _translations(path: Path, language: str) -> dict[str, tuple[str, str]]:
    """Return an article's title (in any language) → its title and body in ``language``."""
    try:
        articles = _read(path, path.stat().st_mtime)
    except (OSError, ValueError):  # no catalogue (a test bundle) or a broken one: articles as written
        return {}
    out: dict[str, tuple[str, str]] = {}
    for item in articles:
        if item.get("language") == language or language not in LANGUAGES:
            continue
        title, body = item.get(f"title_{language}"), item.get(f"body_{language}")
        if isinstance(title, str) and isinstance(body, str) and isinstance(item.get("title"), str):
            out[item["title"]] = (title, body)
    return out
