"""Root-cause analysis of late tickets: one ``root_cause_analysis`` instance per ticket.

A ticket whose resolution time (net of paused time) is over the target (48 h) gets a
supervisor task showing its bottleneck steps — the human tasks where it waited and was
worked on longest, from its task facts (the audit trail). ``kpi_rca`` holds one row per
ticket (its primary key), written in the transaction that starts the instance, so a
ticket is analysed once whatever the number of workers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, Database
from engine.errors import NotFound

from .facts import KpiState, KpiTask, KpiTicket, kpi_settings, target_seconds
from .refresh import GRACE, lock_state

PROCESS = "root_cause_analysis"


class KpiRca(Base):
    """The root-cause analysis started for one late ticket."""

    __tablename__ = "kpi_rca"

    ticket_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance_id: Mapped[int | None]
    resolution_seconds: Mapped[float]
    started_at: Mapped[datetime]


def bottlenecks(session: Session, ticket_id: int, limit: int = 3) -> list[dict[str, Any]]:
    """Return a ticket's slowest human steps: waiting plus working time, longest first."""
    spent = KpiTask.waiting_seconds + KpiTask.working_seconds
    rows = session.execute(select(KpiTask.name, KpiTask.role, KpiTask.waiting_seconds, KpiTask.working_seconds)
                           .where(KpiTask.ticket_id == ticket_id, KpiTask.completed_at.is_not(None))
                           .order_by(spent.desc(), KpiTask.ready_at).limit(limit))
    return [{"name": name, "role": role, "waiting_hours": round((waiting or 0) / 3600, 1),
             "working_hours": round((working or 0) / 3600, 2)} for name, role, waiting, working in rows]


def late_tickets(session: Session, since: datetime | None, limit: int) -> list[KpiTicket]:
    """Return tickets over the resolution target, refreshed since ``since``, with no analysis yet."""
    over = target_seconds(kpi_settings(session), "resolution_hours")
    analysed = select(KpiRca.ticket_number).where(KpiRca.ticket_number == KpiTicket.number).exists()
    query = select(KpiTicket).where(KpiTicket.resolution_seconds > over, ~analysed)
    if since is not None:
        query = query.where(KpiTicket.refreshed_at >= since - GRACE)
    return list(session.scalars(query.order_by(KpiTicket.resolved_at, KpiTicket.ticket_id).limit(limit)))


def start_data(session: Session, fact: KpiTicket) -> dict[str, Any]:
    """Return the start data of the analysis of one late ticket."""
    hours = (lambda s: round((s or 0) / 3600, 1))  # noqa: E731
    return {"ticket_number": fact.number, "resolution_hours": hours(fact.resolution_seconds),
            "target_hours": kpi_settings(session)["targets"]["resolution_hours"],
            "paused_hours": hours(fact.paused_seconds), "channel": fact.channel, "priority": fact.priority,
            "product_line": fact.product_line, "opened_at": fact.opened_at.isoformat(),
            "resolved_at": fact.resolved_at.isoformat() if fact.resolved_at else None,
            "bottlenecks": bottlenecks(session, fact.ticket_id)}


def start_root_cause_analyses(db: Database, runtime: Any, now: datetime, limit: int = 25) -> int:
    """Start the analysis of every late ticket that has none yet; return how many were started.

    Only tickets whose facts changed since the last pass are looked at (``kpi_state`` "rca")."""
    with db.transaction(write=False) as session:
        since = session.scalar(select(KpiState.at).where(KpiState.name == "rca"))
        numbers = [f.number for f in late_tickets(session, since, limit)]
    started = 0
    for number in numbers:
        try:
            with db.transaction() as session:
                fact = session.scalars(select(KpiTicket).where(KpiTicket.number == number)).one()
                record = KpiRca(ticket_number=number, resolution_seconds=fact.resolution_seconds or 0.0,
                                started_at=now)
                session.add(record)
                session.flush()  # a concurrent worker that got here first makes this fail
                result = runtime.start(session, PROCESS, start_data(session, fact), business_key=f"RCA-{number}",
                                       actor="kpi")
                record.instance_id = result.instance_id
        except IntegrityError:
            continue
        except NotFound:
            return started  # root_cause_analysis is not deployed: look again next time
        started += 1
    if len(numbers) < limit and (since is None or now - since >= timedelta(minutes=30)):
        with db.transaction() as session:
            state = lock_state(session, "rca")
            if state is not None:
                state.at = now
    return started


def analysis_of(session: Session, ticket_number: str) -> KpiRca | None:
    """Return the analysis started for a ticket, if any."""
    return session.get(KpiRca, ticket_number)
