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

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .audit import PendingEvent, write_system_event
from .db import Base
from .errors import FieldError, FormValidationError

MAIL_SENDER = "mail.sender"
CALENDARS = "calendars"
KPI_THRESHOLDS = "kpi.alert_thresholds"


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

    template: str = ""
    values: dict[str, Any] = field(default_factory=dict)


def problem(field_name: str, template: str, **values: Any) -> Problem:
    """Return a field error whose message is ``template`` filled with ``values``."""
    return Problem(field_name, template.format(**values), template, values)


def refuse(problems: list[Problem], what: str = "the form") -> None:
    """Raise one :class:`FormValidationError` naming every field at fault, if there are any."""
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise FormValidationError(f"{what} has errors in: {fields}", list(problems))


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    """Return the stored value of ``key``, else ``default``."""
    row = session.get(Setting, key)
    return default if row is None else row.value.get("value", default)


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
