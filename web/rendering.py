"""Presentation helpers: task instructions as safe HTML, times, ages and SLA states."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import bleach
from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, format_currency, format_decimal
from jinja2 import ChainableUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import htmlsafe_json_dumps
from markdown_it import MarkdownIt
from markupsafe import Markup

from engine import clock, history_status
from engine.errors import AftersalesError, Finding, Problem
from readmodels.texts import reader_texts

from .articles import said_article
from .findings import said as said_finding
from .i18n import current_language, translate, translate_plural, use_bundle_texts
from .i18n_catalogues import texts
from .option_words import said_answer

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


#: every ASCII punctuation character: CommonMark lets a backslash make each of them literal
_MARKDOWN_SYNTAX = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    """Return ``text`` with every Markdown syntax character backslash-escaped, so it renders as itself."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text)


def _finalize(value: Any) -> str:
    """Print a value of task data into instructions as literal text (never Markdown: a customer's
    ``[link](…)`` stays words), a zoned ISO timestamp as a local time."""
    if value is None or isinstance(value, Undefined):
        return ""
    if isinstance(value, _Said):  # already in the reader's words (``| t``): not data
        return escape_markdown(value)
    if not isinstance(value, str) or _ISO_TIME.match(value):  # numbers; times in the reader's zone and words
        return escape_markdown(local_time(value) if isinstance(value, str) else str(value))
    text = value
    # data is marked translate="no" (each line on its own, so Markdown blocks never split a mark)
    return "\n".join(f"{_DATA_OPEN}{escape_markdown(line)}{_DATA_CLOSE}" if line.strip() else line
                     for line in text.split("\n"))


class _Said(str):
    """A value the instructions already say in the reader's words (a translated option)."""


_DATA_OPEN, _DATA_CLOSE = "\ue000", "\ue001"  # private-use marks around printed data, made spans at the end
_MARK_IN_URL = re.compile(r"%EE%80%8[01]", re.IGNORECASE)  # a mark Markdown percent-encoded into a link
_TAG = re.compile(r"<[^>]*>")


_sandbox = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined, finalize=_finalize)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
ALLOWED_TAGS = [
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
]
ALLOWED_ATTRS = {"a": ["href", "title"]}


def instructions_html(source: str, data: dict[str, Any]) -> Markup:
    """Render task instructions: Jinja on task data (sandboxed), then Markdown, then sanitise.

    The instructions are the modeller's Markdown; the values they print are data (often typed
    by a customer) and are escaped so Markdown shows them as text: no links, images or
    emphasis from a fault description.
    """
    if not source.strip():
        return Markup("")
    try:
        text = _sandbox.from_string(source).render(**data)
    except (TemplateError, TypeError, ValueError, AttributeError):
        text = source  # a missing variable should not hide the instructions
    html = _markdown.render(text)
    clean = bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRS,
        protocols=["http", "https", "mailto"],
        strip=True,
    )
    clean = _TAG.sub(lambda tag: tag.group(0).replace(_DATA_OPEN, "").replace(_DATA_CLOSE, ""),
                     _MARK_IN_URL.sub("", clean))  # a value inside a link's address or title stays plain
    clean = clean.replace(_DATA_OPEN, '<span translate="no">').replace(_DATA_CLOSE, "</span>")
    return Markup(clean)  # noqa: S704  (bleach-sanitised above; the marks became spans of our own)


#: what each kind of audit event is called on timelines (translated by ``_``)
STEP_LABELS = {
    "instance.created": "Ticket opened",
    "task.completed": "Done",
    "message.received": "Message received",
    "timer.fired": "Timer fired",
    "task.claimed": "Claimed",
    "task.unclaimed": "Given back",
    "task.reassigned": "Reassigned",
    "incident.opened": "Incident",
    "incident.resolved": "Incident resolved",
    "instance.completed": "Ticket closed",
    "instance.cancelled": "Ticket cancelled",
}


def local_time(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """Format an ISO timestamp in the display time zone (the notification templates' filter too)."""
    return when(value if isinstance(value, (datetime, str)) else str(value), pattern)


_sandbox.filters["local_time"] = lambda value, *args: _Said(local_time(value, *args))
#: zones whose readers call it 北京时间
CHINA_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC"})


_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")


def code_words(text: str) -> str:
    """Return a bare code as words (``not_repairable`` → ``not repairable``), other text as it is."""
    return text.replace("_", " ") if _CODE.fullmatch(text) else text


def option_label(text: str) -> str:
    """Translate an option's label; a bare code with no translation reads as words (``not_repairable``)."""
    if text is None or isinstance(text, Undefined):
        return _Said("")  # a value the task data does not have yet (a form not filled in)
    text = str(text)
    label = translate(text)
    return _Said(code_words(text) if label == text else label)


#: params of a handler's message that are codes the reader has words for (a skill, a region, a form field)
WORD_PARAMS = frozenset({"skill", "region", "their_region", "field"})


def said_message(message: Any) -> Any:
    """Say a handler's message (``{"template": …, "params": …}``, ``handlers.dispatch.said``) in the
    reader's language, its codes in words; a caught error of an older version: its English ``message``."""
    if not isinstance(message, dict) or not isinstance(message.get("template"), str):
        return message.get("message") if isinstance(message, dict) else message
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    values = {key: said_message(value) if isinstance(value, dict) else option_label(value) if key in WORD_PARAMS
              else value for key, value in params.items()}
    return _Said(translate(message["template"], **values))


_sandbox.filters["span"] = lambda value: span(value)
_sandbox.filters["t"] = option_label  # instructions say a code in the reader's words: {{ priority | t }}
_sandbox.filters["said"] = said_message  # a handler's message in the reader's words: {{ assignment_error | said }}


def display_tz() -> tzinfo:
    """Return the time zone pages show times in (``DISPLAY_TIMEZONE``, default UTC)."""
    return ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE", "UTC"))


def zone_label(moment: datetime) -> str:
    """Name the display time zone for readers: ``北京时间`` in Chinese for China's zone, else its abbreviation."""
    zone = str(current_app.config.get("DISPLAY_TIMEZONE", "UTC"))
    if zone in CHINA_ZONES and current_language() == "zh":
        return "北京时间"
    return moment.strftime("%Z") or zone


def page_zone() -> dict[str, str]:
    """Return the display time zone's name and its label now, for the pages' scripts (``body[data-time-zone]``)."""
    return {"name": str(current_app.config.get("DISPLAY_TIMEZONE", "UTC")),
            "label": zone_label(clock.now().astimezone(display_tz()))}


def when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M", label: bool = True) -> str:
    """Say a moment in the display time zone with the zone's label (``2026-12-04 14:03 CST``).

    The one filter every page shows times with, so the same moment reads the same
    everywhere; a time without a zone is taken as UTC (what the engine stores).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(display_tz())
    text = moment.strftime(fmt)
    return f"{text} {zone_label(moment)}" if label else text


def duration(seconds: float) -> str:
    """Say a duration briefly: ``3d 4h``, ``5h 12m``, ``7m``."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}{translate('d')} {hours}{translate('h')}"
    if hours:
        return f"{hours}{translate('h')} {minutes}{translate('m')}"
    return f"{minutes}{translate('m')}"


_ISO_SPAN = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def span(value: Any) -> str:
    """Say an ISO 8601 duration in words (``PT8H`` → ``8 h`` / ``8 小时``, ``P3D`` → ``3 天``); else as given."""
    found = _ISO_SPAN.match(str(value or "").strip())
    if not found or not any(found.groups()):
        return "" if value is None else str(value)
    days, hours, minutes, secs = (int(g or 0) for g in found.groups())
    seconds = hours * 3600 + minutes * 60 + secs  # in the unit it was written in: PT24H is 24 (business) hours
    words = [f"{days} {translate('d')}"] if days else []
    if seconds:
        words.append(f"{seconds // 3600} {translate('h')}" if seconds % 3600 == 0 else duration(seconds))
    return " ".join(words) or f"0 {translate('h')}"


def age(value: datetime | None) -> str:
    """Say how long ago ``value`` was."""
    if value is None:
        return ""
    return duration((clock.now() - value).total_seconds())


def sla_state(due: datetime | None) -> str:
    """Return ``breached``, ``soon`` (within ``SLA_SOON_SECONDS``), ``ok`` or ``none``."""
    if due is None:
        return "none"
    left = (due - clock.now()).total_seconds()
    if left < 0:
        return "breached"
    return "soon" if left < current_app.config.get("SLA_SOON_SECONDS", 4 * 3600) else "ok"


def sla_left(due: datetime | None) -> str:
    """Say how much time is left before ``due`` (or how long it is overdue)."""
    if due is None:
        return ""
    left = (due - clock.now()).total_seconds()
    text = duration(left)
    return text if left >= 0 else translate("{time} overdue", time=text)


def iso(value: datetime | None) -> str:
    """Return an ISO 8601 timestamp for scripts (``data-due``)."""
    return value.isoformat() if value else ""


#: the byte order mark that makes a Chinese Excel read a CSV file as UTF-8 (not GBK)
BOM = "\ufeff"


def csv_response(text: str, filename: str) -> Response:
    """Return CSV text as a download that opens right in Excel: UTF-8 with a byte order mark."""
    return Response(BOM + text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


#: the locale Babel formats numbers and money in, by UI language
LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}


def babel_locale() -> str:
    """Return the Babel locale of this request's language (Flask-Babel's locale selector)."""
    return LOCALES.get(current_language(), "en_GB")


def money(value: Any, currency: str | None = None) -> str:
    """Say an amount of money the reader's way (``¥1,280.00`` / ``CN¥1,280.00``); not a number: as given."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    return format_currency(amount, currency or current_app.config.get("CURRENCY", "CNY"))


def number(value: Any, digits: int | None = None) -> str:
    """Say a number with the reader's digit grouping (``12,345``; ``digits`` fixes the decimals)."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(amount, format=pattern)


#: parameters of an error that name things the reader's language has words for (not users, keys or ids)
NAMED_PARAMS = frozenset({"task", "lane", "role", "status", "state", "stage", "process", "element"})


def error_text(exc: AftersalesError) -> str:
    """Say an error in the reader's language: its template from the catalogue, the names in it too."""
    if exc.template is None:
        return translate(exc.message)
    if any(key in NAMED_PARAMS for key in exc.params):
        _use_process_words()
    params = {key: said_finding(Problem("", value)) if isinstance(value, Finding)  # a check's finding: its words
              else translate(value) if key in NAMED_PARAMS and isinstance(value, str) else value
              for key, value in exc.params.items()}
    if exc.plural:
        return translate_plural(exc.template, exc.plural, int(params.pop("count", 1)), count=exc.params["count"],
                                **{k: v for k, v in params.items() if k != "n"})
    return translate(exc.template, **params)


def _use_process_words() -> None:
    """Let an error page name tasks, lanes and stages as the process pages do (the bundles' translations),
    when the error was raised before its page loaded them (a task refused to a role)."""
    if current_language() == "en" or g.get("bundle_texts"):
        return
    from . import get_services  # the app's services (web/__init__ imports this module)

    services = get_services()
    try:
        with services.db.transaction(write=False) as session:
            texts = reader_texts(session, current_language(), services.settings.processes_dir / "data")
    except AftersalesError:  # the database is what failed: say the error with the catalogue's words
        return
    use_bundle_texts(texts)


def error_body(exc: AftersalesError) -> dict[str, Any]:
    """Return an error's JSON body: its stable ``code`` and English ``message`` (and parameters), plus
    ``localized_message`` in ``language`` when the client asked with ``Accept-Language``."""
    body = exc.to_dict()
    if request.headers.get("Accept-Language"):
        body["language"] = current_language()
        body["localized_message"] = error_text(exc)
        errors = getattr(exc, "errors", None)
        if errors and isinstance(body.get("errors"), list):
            from .formdata import said

            for shown, error in zip(body["errors"], errors, strict=False):
                shown["localized_message"] = said(error)
    return body


def js_texts() -> Markup:
    """Return the browser scripts' texts in the reader's language: gettext domain ``js`` as JSON in #ui-texts."""
    language = current_language()
    table = texts(language, "js") if language != "en" else {}
    payload = htmlsafe_json_dumps(table, ensure_ascii=False)
    return Markup('<script type="application/json" id="ui-texts">%s</script>') % payload


def history_progress() -> tuple[int, int] | None:
    """Return how far the demo's history simulation is (percent, tickets); each app reads it at most every 3 s."""
    from . import get_services  # the package imports this module

    seen = current_app.extensions.setdefault("aftersales.history", {"at": -10.0, "value": None})
    if time.monotonic() - seen["at"] > 3:
        with get_services().db.transaction(write=False) as session:
            seen["value"] = history_status.progress(session)
        seen["at"] = time.monotonic()
    return seen["value"]


def init_app(app: Flask) -> None:
    """Register the template filters and globals, and Flask-Babel for locale formatting."""
    Babel(app, locale_selector=babel_locale, configure_jinja=False,  # templates keep `_` of web.i18n
          default_timezone=str(app.config.get("DISPLAY_TIMEZONE", "UTC")))
    app.jinja_env.filters.update(when=when, age=age, span=span, duration=duration, sla_state=sla_state,
                                 sla_left=sla_left, iso=iso, option=option_label, money=money, number=number)
    app.jinja_env.globals["js_texts"] = js_texts
    app.jinja_env.globals["said_article"] = said_article
    app.jinja_env.globals["said_answer"] = said_answer
    app.jinja_env.globals["history_progress"] = history_progress
    app.jinja_env.globals["now"] = clock.now
    app.jinja_env.globals["page_zone"] = page_zone
    app.jinja_env.globals["step_labels"] = STEP_LABELS

    @app.context_processor
    def endpoints() -> dict[str, Any]:
        """Tell templates which endpoints exist (areas other blueprints add)."""
        return {"url_rules": app.view_functions}
