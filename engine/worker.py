"""The background worker: fires due timers, retries failed handlers, runs registered jobs.

Each claim is made inside the transaction that does the work: on PostgreSQL with
``FOR UPDATE SKIP LOCKED`` (many workers share the load; a worker that dies releases
its row lock with its connection, so nothing stays claimed), on SQLite by the single
writer lock. Overdue timers fire at once after a restart, earliest first.
"""

from __future__ import annotations

import functools
import inspect
import logging
import signal
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from . import clock, scheduled_starts
from .db import Database, is_sqlite
from .errors import AftersalesError, StoreUnavailable
from .models import Incident, Instance
from .runtime import Runtime

log = logging.getLogger("aftersales.worker")

Job = Callable[..., int]
_JOBS: dict[str, Job] = {}


def register_job(name: str, job: Job) -> None:
    """Run ``job(db, now)`` or ``job(db, runtime, now)`` (returning items done) on every worker pass."""
    _JOBS[name] = job


@functools.cache
def _wants_runtime(job: Job) -> bool:
    return len(inspect.signature(job).parameters) >= 3


def _run_job(job: Job, db: Database, runtime: Runtime, now: datetime) -> int:
    if _wants_runtime(job):
        return job(db, runtime, now)
    return job(db, now)


@dataclass
class PassStats:
    """What one worker pass did."""

    timers_fired: int = 0
    retries: int = 0
    failures: int = 0
    jobs: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return how many items the pass handled."""
        return self.timers_fired + self.retries + sum(self.jobs.values())

    def to_dict(self) -> dict[str, Any]:
        """Return the stats as JSON-able data."""
        return {"timers_fired": self.timers_fired, "retries": self.retries, "failures": self.failures,
                "jobs": self.jobs}


def _due_timers(now: datetime) -> Any:
    return (Instance.next_timer_at <= now) & Instance.status.in_(("active", "incident"))


def _due_retries(now: datetime) -> Any:
    return (Incident.status == "retrying") & (Incident.next_retry_at <= now)


def _claim(session: Session, query: Any) -> Any:
    if not is_sqlite(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query.limit(1)).first()


class Worker:
    """Runs passes over due work until stopped."""

    def __init__(self, db: Database, runtime: Runtime, batch_size: int = 50) -> None:
        self.db = db
        self.runtime = runtime
        self.batch_size = batch_size
        self.stopping = threading.Event()

    def run_once(self, skip_jobs: Collection[str] = ()) -> PassStats:
        """Handle everything due now (at most ``batch_size`` of each kind) and return what was done;
        the registered jobs named in ``skip_jobs`` wait for a later pass (a simulator runs its slow
        jobs on a cadence of its own)."""
        from .registry import load_handlers

        load_handlers()  # handler modules register their jobs (outbox delivery …)
        stats = PassStats()
        now = clock.now()
        with self.db.transaction(write=False) as session:  # an idle pass takes no write lock
            timers = session.scalar(select(Instance.id).where(_due_timers(now)).limit(1)) is not None
            retries = session.scalar(select(Incident.id).where(_due_retries(now)).limit(1)) is not None
        skip: set[int] = set()
        while timers and stats.timers_fired < self.batch_size and not self.stopping.is_set():
            if not self._fire_one(now, skip, stats):
                break
        skip_incidents: set[int] = set()
        while retries and stats.retries < self.batch_size and not self.stopping.is_set():
            if not self._retry_one(now, skip_incidents, stats):
                break
        for name, job in sorted(_JOBS.items()):
            if name in skip_jobs:
                continue
            try:
                stats.jobs[name] = _run_job(job, self.db, self.runtime, clock.now())
            except Exception:  # a failing job must not stop timers and retries
                log.exception("worker job %s failed", name)
                stats.failures += 1
        return stats

    def _fire_one(self, now: datetime, skip: set[int], stats: PassStats) -> bool:
        query = (select(Instance).where(_due_timers(now), Instance.id.not_in(skip) if skip else true())
                 .order_by(Instance.next_timer_at, Instance.id))
        claimed: int | None = None
        try:
            with self.db.transaction() as session:
                instance = _claim(session, query)
                if instance is None:
                    return False
                claimed = instance.id
                skip.add(claimed)
                self.runtime.fire_timers(session, claimed)
            stats.timers_fired += 1
        except StoreUnavailable:
            raise
        except AftersalesError as exc:
            log.warning("timers of instance %s failed: %s", claimed, exc)
            stats.failures += 1
        return True

    def _retry_one(self, now: datetime, skip: set[int], stats: PassStats) -> bool:
        query = (select(Incident).where(_due_retries(now), Incident.id.not_in(skip) if skip else true())
                 .order_by(Incident.next_retry_at, Incident.id))
        try:
            with self.db.transaction() as session:
                incident = _claim(session, query)
                if incident is None:
                    return False
                skip.add(incident.id)
                self.runtime.retry(session, incident.id, actor="worker")
            stats.retries += 1
        except StoreUnavailable:
            raise
        except AftersalesError as exc:
            log.warning("retry failed: %s", exc)
            stats.failures += 1
        return True

    def run_forever(self, poll_seconds: float = 2.0, on_ready: Callable[[], None] | None = None) -> None:
        """Run passes until SIGTERM/SIGINT; the current trigger always finishes first.

        ``on_ready`` is called once the signals are handled, so whoever waits for it may stop the worker.
        """
        self._install_signals()
        if on_ready is not None:
            on_ready()
        backoff = poll_seconds
        while not self.stopping.is_set():
            try:
                stats = self.run_once()
                backoff = poll_seconds
            except StoreUnavailable as exc:
                log.warning("database unavailable, backing off %.0fs: %s", backoff, exc)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            if stats.total == 0:
                self.stopping.wait(poll_seconds)

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())


register_job("timer.starts", scheduled_starts.start_due)  # timer start events of top-level processes
