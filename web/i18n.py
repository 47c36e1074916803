"""Chinese and English UI text from the gettext catalogues (``web/translations``, see i18n_catalogues).

Msgids are the English text; keys of coded values (``state:closed``, ``walk_in``) have English
text in the ``en`` catalogue too.
The language comes from the session (set by the switch in the header), else from the
signed-in user's account (``/account``), else from the browser's ``Accept-Language``.
Templates call ``_("English text")``; ``{name}`` placeholders are filled after translation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user
from markupsafe import Markup

from .access import safe_next
from .i18n_catalogues import translations

LANGUAGES = ("en", "zh")
bp = Blueprint("i18n", __name__)


def current_language() -> str:
    """Return the language of this request: the session's choice, else the signed-in user's
    account language, else the browser's."""
    if not has_request_context():
        return "en"
    chosen = session.get("lang") or getattr(current_user, "language", "")
    if chosen in LANGUAGES:
        return str(chosen)
    if "browser_language" not in g:  # a page asks once per text: the header is read once per request
        best = request.accept_languages.best_match(
            ["en", "zh", "zh-CN", "zh-TW", "zh-Hans"], default="en"
        )
        g.browser_language = "zh" if best and best.startswith("zh") else "en"
    return str(g.browser_language)


def use_bundle_texts(texts: dict[str, str]) -> None:
    """Let this request's pages use a process bundle's own translations (its forms' words)."""
    g.bundle_texts = texts


def translate(text: str, /, **values: Any) -> str:
    """Return ``text`` in the request's language, placeholders filled."""
    language = current_language()
    bundle = g.get("bundle_texts") if has_request_context() else None
    text = bundle[text] if bundle and text in bundle else _catalogue(language).gettext(text)
    if any(isinstance(v, Markup) for v in values.values()):  # a value marked as data: keep its mark
        return Markup.escape(text).format(**values)
    return text.format(**values) if values else text


def data_text(value: Any) -> Markup:
    """Mark a value a page shows as data (a name someone typed, a user name) as not to be translated."""
    return Markup('<span translate="no">{}</span>').format(value)


def _catalogue(language: str) -> Any:
    """Return the translations of ``language``, looked up once per request (the lookup checks the
    catalogue file's time, which a page with hundreds of texts would otherwise do hundreds of times)."""
    if not has_request_context():
        return translations(language)
    found = g.setdefault("catalogues", {})
    if language not in found:
        found[language] = translations(language)
    return found[language]


def translate_plural(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """Return the singular or plural of a text as the reader's language counts ``n`` (``{n}`` filled too)."""
    text = _catalogue(current_language()).ngettext(singular, plural, n)
    return text.format(n=n, **values)


@bp.get("/lang/<code>")
def switch(code: str):  # type: ignore[no-untyped-def]
    """Remember the chosen language and go back to the page the user was on."""
    if code in LANGUAGES:
        session["lang"] = code
        from .account import save_language

        save_language(code)
    return redirect(safe_next(request.args.get("next"), url_for("index")))


def init_app(app: Flask) -> None:
    """Make ``_`` and the current language available to every template."""
    app.register_blueprint(bp)
    app.jinja_env.globals["_"] = translate
    app.jinja_env.globals["ngettext"] = translate_plural
    app.jinja_env.filters["data"] = data_text
    app.jinja_env.globals["current_language"] = current_language
