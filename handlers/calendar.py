"""Business calendars: working hours per weekday, holidays and a timezone, as data.

``add(start, seconds)`` walks working intervals forward; ``between(a, b)`` counts the
working seconds in ``[a, b)``. Calendars live in ``processes/data/calendars.json`` (or the
deployment's); an admin's calendars saved on ``/admin/settings`` come first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.errors import HandlerError
from engine.settings import CALENDARS, get_setting

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3660  # a target further than ten years of working days is a modelling error


def _clock(text: str) -> time | None:
    if text == "24:00":
        return None  # end of day
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Calendar:
    """Working intervals per weekday, holidays and the timezone they are read in."""

    name: str
    zone: ZoneInfo
    hours: dict[int, tuple[tuple[time, time | None], ...]]
    holidays: frozenset[date]

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Calendar:
        """Build a calendar from its JSON description."""
        try:
            hours = {DAYS.index(day): tuple((_clock(a), _clock(b)) for a, b in spans)
                     for day, spans in data.get("hours", {}).items()}
            holidays = frozenset(date.fromisoformat(d) for d in data.get("holidays", []))
            return cls(name, ZoneInfo(data.get("timezone", "UTC")), hours, holidays)
        except (ValueError, KeyError, TypeError) as exc:
            raise HandlerError(f"calendar {name!r} is malformed: {exc}") from exc

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        out = []
        for start, end in self.hours.get(day.weekday(), ()):
            begin = datetime.combine(day, start, self.zone)
            finish = (datetime.combine(day + timedelta(days=1), time(0), self.zone) if end is None
                      else datetime.combine(day, end, self.zone))
            out.append((begin.astimezone(UTC), finish.astimezone(UTC)))
        return out

    def add(self, start: datetime, seconds: float) -> datetime:
        """Return the moment ``seconds`` working seconds after ``start``."""
        remaining = max(0.0, seconds)
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for begin, finish in self._intervals(day):
                begin = max(begin, start)
                if finish <= begin:
                    continue
                span = (finish - begin).total_seconds()
                if remaining <= span:
                    return begin + timedelta(seconds=remaining)
                remaining -= span
            day += timedelta(days=1)
        raise HandlerError(f"calendar {self.name!r} has no working time to fit {seconds} s")

    def between(self, a: datetime, b: datetime) -> float:
        """Return the working seconds in ``[a, b)``."""
        if b <= a:
            return 0.0
        total, day = 0.0, a.astimezone(self.zone).date()
        last = b.astimezone(self.zone).date()
        while day <= last:
            for begin, finish in self._intervals(day):
                lo, hi = max(begin, a), min(finish, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total


def load_calendars(raw: bytes | str) -> dict[str, Calendar]:
    """Parse ``calendars.json`` content into calendars by name."""
    data = json.loads(raw)
    return {name: Calendar.from_dict(name, spec) for name, spec in data.items()}


SHIPPED = Path(__file__).resolve().parent.parent / "processes" / "data" / "calendars.json"


def default_calendars() -> dict[str, Calendar]:
    """Load the calendars shipped in ``processes/data`` (used outside a deployment)."""
    return load_calendars(SHIPPED.read_bytes())


def calendar_data(session: Session) -> dict[str, Any]:
    """Return the calendars as data: an admin's stored ones (``/admin/settings``), else the shipped file."""
    return get_setting(session, CALENDARS) or json.loads(SHIPPED.read_bytes())
