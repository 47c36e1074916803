"""Whether the demo's simulated history is still being written, and how far it has got.

``aftersales demo`` simulates a month of tickets in a background thread while the web UI
already serves; it keeps its progress in the ``database_mark`` row ``history`` so that every
web process can tell staff that the dashboard is still filling. The row is removed when the
history is complete (or found left over by a run that was stopped).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import clock
from .models import DatabaseMark

MARK = "history"


def set_progress(session: Session, percent: int, tickets: int) -> None:
    """Record that the history of ``tickets`` tickets is ``percent`` % simulated."""
    value = f"{max(0, min(100, percent))}/{tickets}"
    mark = session.get(DatabaseMark, MARK)
    if mark is None:
        session.add(DatabaseMark(name=MARK, value=value, set_at=clock.now(), set_by="demo"))
    else:
        mark.value, mark.set_at = value, clock.now()


def clear(session: Session) -> bool:
    """Forget the history's progress (done, or left over by a stopped run); tell whether there was one."""
    mark = session.get(DatabaseMark, MARK)
    if mark is not None:
        session.delete(mark)
    return mark is not None


def progress(session: Session) -> tuple[int, int] | None:
    """Return ``(percent, tickets)`` while the history is being simulated, else ``None``."""
    mark = session.get(DatabaseMark, MARK)
    if mark is None:
        return None
    percent, _, tickets = mark.value.partition("/")
    return (int(percent), int(tickets)) if percent.isdigit() and tickets.isdigit() else None
