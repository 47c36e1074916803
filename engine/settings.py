"""Settings an administrator changes at run time, stored in the database and audited.

A setting is a JSON value under a dotted key (``mail.sender``, ``calendars``,
``kpi.alert_thresholds``). Code that used to read an environment variable or a data file
asks :func:`get_setting` first and keeps the variable or file as the default, so a fresh
installation behaves as before until an admin saves a value. Every change is written to
the ``settings`` audit stream with the old and the new value.

Values are validated by the caller (``web.admin_settings`` knows each key's shape); this
module only stores them. Field errors carry an English template and its values
(:class:`Problem`) so that a page can show them in the reader's language.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .audit import PendingEvent, write_system_event
from .db import Base
from .errors import FieldError, FormValidationError
from .forms import EMAIL

MAIL_SENDER = "mail.sender"
CALENDARS = "calendars"
KPI_THRESHOLDS = "kpi.alert_thresholds"
BUSINESS_LANGUAGE = "business.language"
LANGUAGES = ("zh", "en")


class Setting(Base):
    """One stored setting: its JSON value, when and by whom it was last changed."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class Problem(FieldError):
    """A field error with its English ``template`` and ``values``, for translation."""


def problem(field_name: str, template: str, **values: Any) -> Problem:
    """Return a field error whose message is ``template`` filled with ``values``."""
    return Problem(field_name, template.format(**values), template, values)


def refuse(problems: list[Problem], what: str = "the form") -> None:
    """Raise one :class:`FormValidationError` naming every field at fault, if there are any."""
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise FormValidationError("{what} has errors in: {fields}",
                                  list(problems), params={"what": what, "fields": fields})


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    """Return the stored value of ``key``, else ``default``."""
    row = session.get(Setting, key)
    return default if row is None else row.value.get("value", default)


def business_language(session: Session) -> str:
    """Return the language the business works in, for mail to staff who never chose one: the admin's
    setting, else ``AFTERSALES_LANGUAGE``, else Chinese."""
    value = get_setting(session, BUSINESS_LANGUAGE) or os.environ.get("AFTERSALES_LANGUAGE", "")
    return value if value in LANGUAGES else "zh"


def check_business_language(value: str) -> str:
    """Return the business language an admin chose, or refuse it on its field."""
    if value not in LANGUAGES:
        refuse([problem("business_language", "language must be one of {choices}", choices=", ".join(LANGUAGES))],
               "the settings")
    return value


def language_of(session: Session, chosen: str | None) -> str:
    """Return the language to write to a person in: the one they chose, else the business language."""
    return chosen if chosen in LANGUAGES else business_language(session)


def stored_settings(session: Session) -> dict[str, Setting]:
    """Return every stored setting by key (for the settings page: who changed it, when)."""
    return {row.key: row for row in session.scalars(select(Setting))}


def set_setting(session: Session, key: str, value: Any, by: str) -> bool:
    """Store ``value`` under ``key`` and audit the change; tell whether anything changed."""
    row = session.get(Setting, key, with_for_update=True)
    old = None if row is None else row.value.get("value")
    if row is not None and old == value:
        return False
    now = clock.now()
    if row is None:
        session.add(Setting(key=key, value={"value": value}, updated_at=now, updated_by=by))
    else:
        row.value, row.updated_at, row.updated_by = {"value": value}, now, by
    session.flush()
    write_system_event(session, PendingEvent("setting.changed", by, now, {"key": key, "old": old, "new": value}),
                       stream="settings")
    return True


# --- what each setting may hold ----------------------------------------------------------------
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")
_DISPLAY_NAME = re.compile(r"[^\x00-\x1f\x7f<>\"@,;:\\]{0,100}")


def check_sender(text: str) -> str:
    """Return the sender ``Name <local@domain>`` (or a bare address), refusing anything else."""
    text = text.strip()
    name, address = (text[:text.index("<")].strip(), text[text.index("<") + 1:].rstrip(">").strip()) \
        if "<" in text and text.endswith(">") else ("", text)
    if not text or not EMAIL.fullmatch(address) or "." not in address.rpartition("@")[2] \
            or not _DISPLAY_NAME.fullmatch(name):
        refuse([problem("mail_sender", "{value!r} is not a sender address like "
                                       "'Service <service@example.com>'", value=text)], "the settings")
    return f"{name} <{address}>" if name else address


def _spans(text: str, field_name: str, problems: list[Problem]) -> list[list[str]]:
    spans = []
    for part in (p.strip() for p in text.replace("，", ",").split(",")):
        if not part:
            continue
        start, _, end = (x.strip() for x in part.partition("-"))
        if not (_CLOCK.fullmatch(start) and _CLOCK.fullmatch(end)) or start == "24:00" or start >= end:
            problems.append(problem(field_name, "{value!r} is not working hours like 09:00-18:00 "
                                                "(several: 09:00-12:00, 13:00-18:00)", value=part))
            continue
        spans.append([start, end])
    return spans


def check_calendars(entered: dict[str, dict[str, Any]], known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return the calendars to store from what was entered per calendar (time zone, hours per
    weekday as text, holidays one ISO date a line), keeping each known calendar's description."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for name, values in entered.items():
        if name not in known:
            problems.append(problem(f"cal.{name}", "there is no calendar {name!r}", name=name))
            continue
        zone = str(values.get("timezone", "")).strip()
        if zone not in available_timezones():
            problems.append(problem(f"cal.{name}.timezone", "{value!r} is not a time zone like Asia/Shanghai",
                                    value=zone))
        hours = {day: _spans(str(values.get("hours", {}).get(day, "")), f"cal.{name}.hours.{day}", problems)
                 for day in DAYS}
        holidays = []
        for line in str(values.get("holidays", "")).replace(",", "\n").splitlines():
            if not line.strip():
                continue
            try:
                holidays.append(date.fromisoformat(line.strip()).isoformat())
            except ValueError:
                problems.append(problem(f"cal.{name}.holidays", "{value!r} is not a date like 2026-10-01",
                                        value=line.strip()))
        out[name] = {"description": known[name].get("description", ""), "timezone": zone, "hours": hours,
                     "holidays": sorted(set(holidays))}
    refuse(problems, "the settings")
    return out


def check_thresholds(rules: list[dict[str, Any]], entered: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Return each alert rule's threshold and minimum count from what was entered.

    A share (a KPI named ``…_share``) is a fraction from 0 to 1; other figures are at least 0.
    """
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    by_id = {r["id"]: r for r in rules}
    for rule_id, values in entered.items():
        rule = by_id.get(rule_id)
        if rule is None:
            problems.append(problem(f"kpi.{rule_id}", "there is no alert rule {name!r}", name=rule_id))
            continue
        share = str(rule.get("kpi", "")).endswith("_share")
        try:
            threshold = float(str(values.get("threshold", "")).strip())
            if threshold != threshold or threshold < 0 or (share and threshold > 1):
                raise ValueError
        except ValueError:
            problems.append(problem(f"kpi.{rule_id}.threshold", "a share from 0 to 1 such as 0.85" if share
                                    else "a number of at least 0"))
            threshold = None  # type: ignore[assignment]
        try:
            count = int(str(values.get("min_count", "")).strip())
            if not 1 <= count <= 1_000_000:
                raise ValueError
        except ValueError:
            problems.append(problem(f"kpi.{rule_id}.min_count", "a whole number of tickets from 1 to 1000000"))
            count = None  # type: ignore[assignment]
        out[rule_id] = {"threshold": threshold, "min_count": count}
    refuse(problems, "the settings")
    return out


def with_thresholds(rules: list[dict[str, Any]], stored: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return alert rules with the stored thresholds and minimum counts in place of the file's."""
    if not stored:
        return rules
    out = []
    for rule in rules:
        change = stored.get(rule.get("id"))
        if change:
            rule = dict(rule)
            measure = next((k for k in ("below", "above", "falls_by") if k in rule), None)
            if measure and change.get("threshold") is not None:
                rule[measure] = change["threshold"]
            if change.get("min_count") is not None:
                rule["min_count"] = change["min_count"]
        out.append(rule)
    return out
