"""What a database is for, and running due work "as of" a later time on demo and test databases.

Process owners and testers walk waiting periods, reminders and escalations without waiting
for them: ``aftersales worker --once --as-of 2026-12-09T10:00`` fires every timer and job
due by then, on a clock set to that moment. It would put future times into a production
trail, so it is refused unless the database is marked ``demo`` or ``test``
(``aftersales db mark demo``; ``aftersales demo`` marks its own database). An unmarked
database counts as production. The mark and every rehearsal are audit events.

A what-if's throw-away databases are marked ``simulation``: their e-mail is recorded, never
handed to a mail server (:func:`handlers.transports.default_transports`), since the server
configured for the live system would deliver it to real people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from . import clock
from .audit import PendingEvent, write_system_event
from .db import Database
from .errors import InvalidInput, PermissionDenied
from .models import DatabaseMark
from .runtime import Runtime
from .worker import PassStats, Worker

PURPOSES = ("production", "demo", "test", "simulation")
REHEARSABLE = ("demo", "test")
#: databases whose e-mail is recorded instead of sent
RECORDS_MAIL = ("simulation",)
MAX_PASSES = 1000


def get_purpose(session: Session) -> str:
    """Return what the database is marked for (``production`` when unmarked)."""
    mark = session.get(DatabaseMark, "purpose")
    return mark.value if mark is not None else "production"


def set_purpose(session: Session, purpose: str, actor: str) -> None:
    """Mark the database as being for ``purpose`` (one of :data:`PURPOSES`), in the audit trail too."""
    if purpose not in PURPOSES:
        raise InvalidInput("purpose must be one of {purposes}, not '{purpose}'",
                           field="purpose", params={"purposes": ", ".join(PURPOSES), "purpose": purpose})
    now = clock.now()
    mark = session.get(DatabaseMark, "purpose")
    previous = mark.value if mark is not None else None
    if mark is None:
        session.add(DatabaseMark(name="purpose", value=purpose, set_at=now, set_by=actor))
    else:
        mark.value, mark.set_at, mark.set_by = purpose, now, actor
    write_system_event(session, PendingEvent("database.marked", actor, now,
                                             {"purpose": purpose, "previous": previous}))


@dataclass
class Rehearsal:
    """What a run as of a later time did."""

    as_of: datetime
    passes: int
    stats: PassStats


def run_as_of(db: Database, runtime: Runtime, as_of: datetime, actor: str) -> Rehearsal:
    """Run every timer, retry and job due by ``as_of`` with the clock set there (demo and test databases only)."""
    if as_of.tzinfo is None:
        raise InvalidInput("the time to run as of needs a time zone (e.g. 2026-12-09T10:00+08:00)", field="as_of")
    now = clock.now()
    with db.transaction() as session:
        purpose = get_purpose(session)
        if purpose not in REHEARSABLE:
            raise PermissionDenied("running due work as of a later time is only allowed on a demo or test database; "
                                   "this one is marked '{purpose}' (aftersales db mark demo|test)",
                                   params={"purpose": purpose})
        if as_of < now:
            raise InvalidInput("as-of time {as_of} is before now ({now}): time only moves forward",
                               field="as_of", params={"as_of": as_of.isoformat(), "now": now.isoformat()})
        write_system_event(session, PendingEvent("worker.rehearsed", actor, now, {"as_of": as_of.isoformat()}))
    previous = clock.set_clock(clock.FrozenClock(as_of))
    total, passes = PassStats(), 0
    try:
        worker = Worker(db, runtime)
        while passes < MAX_PASSES:
            stats = worker.run_once()
            passes += 1
            total.timers_fired += stats.timers_fired
            total.retries += stats.retries
            total.failures += stats.failures
            for name, done in stats.jobs.items():
                total.jobs[name] = total.jobs.get(name, 0) + done
            if stats.timers_fired + stats.retries == 0:
                break
    finally:
        clock.set_clock(previous)
    return Rehearsal(as_of, passes, total)
