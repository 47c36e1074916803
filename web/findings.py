"""Say validation and lint findings in the reader's language.

A :class:`~engine.errors.Problem` keeps its English ``message`` for the CLI and the API; its
``template`` (the English text with ``{name}`` placeholders) is the catalogue key a page looks
up, filled with the finding's ``params`` as they are (element ids, file names and the text a
library wrote stay untranslated) except ``OUR_TEXTS``, English advice of ours that the catalogue
says too (the other engines' dialects and what to write instead). A finding without a template
is shown as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.errors import Problem

from .i18n import translate
from .i18n_catalogues import translations

#: params that are English texts of aftersales (engine.lint_dialects.HINTS …), said in the reader's language
OUR_TEXTS = frozenset({"hint", "dialect"})


def said(problem: Problem, language: str | None = None) -> str:
    """Return ``problem``'s text in ``language``, by default the reader's (outside a request: the CLI)."""
    if not problem.template:
        return problem.message

    def text(english: str) -> str:
        return translations(language).gettext(english) if language else translate(english)

    if not problem.params:
        return text(problem.template)
    return text(problem.template).format(**{key: text(value) if key in OUR_TEXTS and isinstance(value, str)
                                            else value for key, value in problem.params.items()})


def shown(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Return the problems as a page shows them: their JSON form (English ``message``) with
    ``localized_message``, the reader's text."""
    return [dict(p.to_dict(), localized_message=said(p)) for p in problems]
