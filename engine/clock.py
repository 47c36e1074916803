"""One injectable clock for the whole process, which one thread may override for itself.

SpiffWorkflow computes timer due times with ``datetime.now(timezone.utc)`` inside its
timer module and offers no hook, so :func:`install` points that module's ``datetime``
at a subclass whose ``now()`` asks our clock. Everything in aftersales reads time
through :func:`now`. :func:`thread_clock` gives one thread its own clock (the demo's
history is simulated in the past in a background thread while the web UI serves in the
present).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of aware UTC datetimes."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to (tests, simulation)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the frozen time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (must be timezone-aware)."""
        with self._lock:
            self._now = when.astimezone(UTC)


_current: Clock = SystemClock()
_thread = threading.local()  # a clock one thread set for itself (thread_clock), else none


def now() -> datetime:
    """Return the current time of this thread's clock, else of the installed clock."""
    return get_clock().now()


def get_clock() -> Clock:
    """Return the clock this thread reads: its own (see :func:`thread_clock`), else the installed one."""
    return getattr(_thread, "clock", None) or _current


@contextmanager
def thread_clock(clock: Clock) -> Iterator[Clock]:
    """Let the calling thread, and only it, read ``clock`` until the block ends."""
    previous = getattr(_thread, "clock", None)
    _thread.clock = clock
    try:
        yield clock
    finally:
        _thread.clock = previous


def set_clock(clock: Clock) -> Clock:
    """Install ``clock`` for the whole process and return the previous one."""
    global _current
    previous, _current = _current, clock
    return previous


class _EngineDatetime(datetime):
    """``datetime`` whose ``now()`` follows the installed clock (for SpiffWorkflow's timers)."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        current = get_clock().now()
        return current if tz is None else current.astimezone(tz)


def install() -> None:
    """Make SpiffWorkflow's timer module read time from the installed clock."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _EngineDatetime  # type: ignore[attr-defined]
