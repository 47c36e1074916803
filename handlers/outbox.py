"""The notification outbox and its dispatcher: deliver after commit, retry, never twice.

``notify.send`` writes a row in the engine's transaction, so a notification exists if and
only if the step that sent it committed. :func:`deliver_outbox` then works in three
short steps per batch:

1. **claim** (one transaction): due rows — pending and due, or ``sending`` whose lease
   ran out because a worker died — become ``sending`` with a fresh claim token and a
   lease; on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so workers share the load,
   on SQLite under the single-writer lock;
2. **send** outside any transaction, through the channel's transport;
3. **mark** (one transaction per row, only while the claim token is still ours):
   ``delivered``, or back to ``pending`` with exponential backoff, or ``failed`` when
   the transport refuses for good or the attempts are used up.

A failed customer notification is reported to the supervisors by the analytics
``notify.failures`` job (``analytics/alerts.py``), which links the row to its alert.

A worker that crashes between send and mark leaves a claim that expires, and the row is
sent again with the *same* Message-ID (derived from the outbox id) — duplicates are
detectable by the receiver, and the recording transport drops them (unique outbox id).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, Text, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, Database, is_sqlite

from .transports import (
    DeliveryRefused,
    OutboundMessage,
    Transport,
    current_sender,
    default_transports,
    message_domain,
)

LEASE = timedelta(seconds=int(os.environ.get("AFTERSALES_OUTBOX_LEASE_SECONDS", "300")))
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 8


class Outbox(Base):
    """A rendered notification waiting to be delivered, written in the sending step's transaction."""

    __tablename__ = "notify_outbox"
    __table_args__ = (Index("ix_notify_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    milestone: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), default="")
    instance_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    #: ``customer`` (``notify.send``) or ``staff`` (alerts and SLA e-mails to our own people)
    audience: Mapped[str] = mapped_column(String(16), default="customer", server_default="customer")
    failed_at: Mapped[datetime | None]
    #: the supervisors' alert that reported this failure (``kpi_alert.id``), once reported
    alert_id: Mapped[int | None]


@dataclass
class DeliveryReport:
    """What one :func:`deliver_outbox` pass did, by outbox id."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data."""
        return {"delivered": self.delivered, "retrying": self.retrying, "failed": self.failed}


def queue_email(session: Session, recipient: str, language: str, subject: str, body: str, ticket_number: str,
                milestone: str, template: str, instance_id: int, now: datetime) -> Outbox:
    """Queue one e-mail to a member of staff in the caller's transaction (the worker sends it)."""
    row = Outbox(ticket_number=ticket_number, milestone=milestone, channel="email", recipient=recipient,
                 language=language, template=template, subject=subject[:300], body=body, instance_id=instance_id,
                 status="pending", attempts=0, next_attempt_at=now, created_at=now, audience="staff")
    session.add(row)
    stamp_message_id(session, row)
    return row


def stamp_message_id(session: Session, row: Outbox) -> None:
    """Give a new outbox ``row`` its Message-ID: its id at the domain of the sender e-mail goes out as.

    The sender is the one the SMTP transport uses (:func:`current_sender`: an admin's setting, else
    ``AFTERSALES_SMTP_FROM``), so the Message-ID's domain is always the ``From`` address's.
    """
    session.add(row)
    session.flush()
    row.message_id = f"<outbox.{row.id}@{message_domain(current_sender(session))}>"
    session.flush()


def thread_of(session: Session, row: Outbox) -> tuple[str, tuple[str, ...]]:
    """Return the customer mail a customer e-mail answers and its thread (``In-Reply-To``, ``References``).

    Every e-mail to a customer about a ticket they wrote to us about answers their latest mail on
    it (taken in before the row was written, from the address it goes to); others answer nothing.
    """
    if row.channel != "email" or row.audience != "customer":
        return "", ()
    from .mail_intake import customer_mail_ids  # the intake imports this module

    ids = customer_mail_ids(session, row.ticket_number, row.recipient, row.created_at)
    return (ids[-1], tuple(ids)) if ids else ("", ())


def backoff(attempts: int) -> timedelta:
    """Return how long to wait after the ``attempts``-th failed attempt."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _due(now: datetime) -> Any:
    """The rows to send at ``now``: pending and due, or claimed by a worker whose lease ran out."""
    return or_((Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
               (Outbox.status == "sending") & (Outbox.lease_until < now))


def is_due(db: Database, now: datetime) -> bool:
    """Tell whether any row is due, in a read transaction (an idle pass takes no write lock)."""
    with db.transaction(write=False) as session:
        return session.scalar(select(Outbox.id).where(_due(now)).limit(1)) is not None


def claim(db: Database, now: datetime, limit: int, lease: timedelta = LEASE) -> list[OutboundMessage]:
    """Claim up to ``limit`` due rows for this worker and return them as messages."""
    with db.transaction() as session:
        query = select(Outbox).where(_due(now)).order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
        if not is_sqlite(session):
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in session.scalars(query):
            row.status, row.lease_until, row.claim_token = "sending", now + lease, uuid.uuid4().hex
            row.attempts += 1
            claimed.append(OutboundMessage(row.id, row.claim_token, row.message_id, row.channel, row.recipient,
                                           row.subject, row.body, row.attempts, *thread_of(session, row)))
    return claimed


def mark(db: Database, message: OutboundMessage, values: dict[str, Any]) -> bool:
    """Record the outcome of a claimed message, only while the claim is still ours; tell whether it was."""
    with db.transaction() as session:
        done = session.execute(update(Outbox).where(Outbox.id == message.outbox_id, Outbox.status == "sending",
                                                    Outbox.claim_token == message.delivery_id)
                               .values(lease_until=None, **values)
                               .execution_options(synchronize_session=False))
        return done.rowcount == 1  # type: ignore[attr-defined]


def deliver_outbox(db: Database, transports: Mapping[str, Transport], now: datetime,
                   limit: int = 50) -> DeliveryReport:
    """Deliver due notifications: claim, send after commit, mark; retry with backoff."""
    report = DeliveryReport()
    for message in claim(db, now, limit):
        transport = transports.get(message.channel)
        try:
            if transport is None:
                raise DeliveryRefused(f"no transport for channel {message.channel!r}")
            transport.send(message, now)
        except DeliveryRefused as exc:  # permanent (SMTP 5xx, an impossible address): no retry
            mark(db, message, {"status": "failed", "last_error": str(exc)[:2000], "failed_at": now})
            report.failed.append(message.outbox_id)
        except Exception as exc:  # any other transport trouble is temporary: another try, later
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempt >= MAX_ATTEMPTS:
                mark(db, message, {"status": "failed", "last_error": error, "failed_at": now})
                report.failed.append(message.outbox_id)
            else:
                mark(db, message, {"status": "pending", "last_error": error,
                                    "next_attempt_at": now + backoff(message.attempt)})
                report.retrying.append(message.outbox_id)
        else:
            mark(db, message, {"status": "delivered", "delivered_at": now, "last_error": None})
            report.delivered.append(message.outbox_id)
    return report


STATUSES = ("pending", "sending", "delivered", "failed")


def sent_mail(session: Session, status: str | None = None, ticket: str | None = None,
              limit: int = 100) -> tuple[list[Outbox], dict[str, int]]:
    """Return the newest customer and staff notifications (filtered) and the count per status."""
    query = select(Outbox)
    if status:
        query = query.where(Outbox.status == status)
    if ticket:
        query = query.where(Outbox.ticket_number == ticket)
    rows = list(session.scalars(query.order_by(Outbox.id.desc()).limit(limit)))
    counts = dict(session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
    return rows, {name: int(counts.get(name, 0)) for name in STATUSES}


def outbox_job(db: Database, now: datetime) -> int:
    """Deliver due notifications with the default transports; return how many went out. A pass with
    nothing due reads one row and returns: no write transaction, no transports built."""
    if not is_due(db, now):
        return 0
    return len(deliver_outbox(db, default_transports(db), now).delivered)


def _register_with_worker() -> None:
    from engine.worker import register_job

    register_job("notify.outbox", outbox_job)


_register_with_worker()
