"""The tamper-evident audit trail.

Each stream (one per instance, ``instance:<id>``, plus ``system`` for deployments and
users) is a chain: event ``n`` stores ``prev_hash`` = hash of event ``n-1`` and its own
``hash`` = SHA-256 of the canonical JSON of
``[prev_hash, stream, seq, at, actor, kind, task_id, element_id, data]``, where ``at`` is
ISO 8601 UTC with microseconds and canonical JSON has sorted keys, no spaces, UTF-8.
The stream's head (last seq and hash) is kept on the instance row (or ``audit_stream``),
so deleting the newest event is detected too. Events are written in the transaction of
the change they describe.

Erasing a customer's personal data (a privacy request) rewrites the ``data`` of the
events that held it. Each such event is listed, with its original hash and the hash of
its redacted content, in a ``personal_data.erased`` event of the ``privacy`` stream
(itself chained); verification accepts a redacted event only as listed there, and keeps
the chain on the original hash, so the links of the stream still hold.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import rollup_elements
from .models import AuditEvent, AuditStream, Instance
from .writes import Writes

GENESIS = "0" * 64
#: the event of the ``privacy`` stream that lists the events an erasure redacted
ERASED_KIND = "personal_data.erased"


def canonical(value: Any) -> str:
    """Return the canonical JSON text used for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def jsonable(value: Any) -> Any:
    """Return ``value`` as it will read back from a JSON column."""
    return json.loads(canonical(value))


def event_hash(prev_hash: str, stream: str, seq: int, at: datetime, actor: str, kind: str,
               task_id: str | None, element_id: str | None, data: Any) -> str:
    """Compute an event's hash from its fields and its predecessor's hash."""
    body = [prev_hash, stream, seq, at.isoformat(timespec="microseconds"), actor, kind,
            task_id, element_id, data]
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def instance_stream(instance_id: int) -> str:
    """Return the stream name of an instance."""
    return f"instance:{instance_id}"


@dataclass
class PendingEvent:
    """An audit event waiting to be chained and written."""

    kind: str
    actor: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None
    element_id: str | None = None


def write_instance_events(session: Session, instance: Instance, events: list[PendingEvent],
                          writes: Writes | None = None) -> None:
    """Chain ``events`` onto the instance's stream (its head is on the instance row, read once
    with it) and insert them in one statement — or add them to ``writes``, a trigger's one write."""
    if not events:
        return
    stream = instance_stream(instance.id)
    rows, seq, head = _chain(stream, instance.audit_seq, instance.audit_head or GENESIS, events)
    rows = [{**r, "instance_id": instance.id} for r in rows]
    own = writes is None
    writes = Writes() if writes is None else writes
    writes.insert(AuditEvent.__table__, rows)
    rollup_elements.record(session, instance, rows, writes)  # the heatmap's figures, in the same transaction
    instance.audit_seq, instance.audit_head = seq, head
    if own:
        writes.flush(session)


def write_system_event(session: Session, event: PendingEvent, stream: str = "system") -> None:
    """Append one event to a non-instance stream (deployments, users, settings)."""
    head = session.scalars(select(AuditStream).where(AuditStream.stream == stream)
                           .with_for_update()).one_or_none()
    if head is None:
        head = AuditStream(stream=stream, seq=0, head=GENESIS)
        session.add(head)
    rows, seq, last = _chain(stream, head.seq, head.head, [event])
    session.execute(AuditEvent.__table__.insert(), [{**r, "instance_id": None} for r in rows])
    head.seq, head.head = seq, last


def _chain(stream: str, seq: int, prev: str, events: list[PendingEvent]
           ) -> tuple[list[dict[str, Any]], int, str]:
    rows = []
    for ev in events:
        seq += 1
        data = jsonable(ev.data)
        digest = event_hash(prev, stream, seq, ev.at, ev.actor, ev.kind, ev.task_id, ev.element_id, data)
        rows.append({"stream": stream, "seq": seq, "at": ev.at, "actor": ev.actor, "kind": ev.kind,
                     "task_id": ev.task_id, "element_id": ev.element_id, "data": data,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    return rows, seq, prev


@dataclass
class Break:
    """The first broken link found in a stream."""

    stream: str
    seq: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the break as JSON-able data."""
        return {"stream": self.stream, "seq": self.seq, "reason": self.reason}


@dataclass
class VerifyReport:
    """The outcome of verifying one or more streams."""

    streams: int = 0
    events: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether every checked stream is intact."""
        return not self.breaks

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data."""
        return {"ok": self.ok, "streams": self.streams, "events": self.events,
                "breaks": [b.to_dict() for b in self.breaks]}


def redactions(session: Session) -> dict[tuple[str, int], tuple[str, str]]:
    """Return the events erasures redacted, as recorded in the ``privacy`` stream: original and redacted hash."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for data in session.scalars(select(AuditEvent.data).where(AuditEvent.stream == "privacy",
                                                              AuditEvent.kind == ERASED_KIND)
                                .order_by(AuditEvent.seq)):
        for stream, seq, original, redacted in (data or {}).get("redacted") or []:
            found[(str(stream), int(seq))] = (str(original), str(redacted))
    return found


def verify_stream(session: Session, stream: str, head_seq: int, head_hash: str,
                  redacted: dict[tuple[str, int], tuple[str, str]] | None = None) -> tuple[int, Break | None]:
    """Check one stream against its recorded head; return events checked and the first break.

    ``redacted`` (from :func:`redactions`) names the events an erasure rewrote: such an event
    must match the redacted hash recorded for it, and the chain goes on from its original hash.
    """
    redacted = redactions(session) if redacted is None else redacted
    prev, expected_seq, count = GENESIS, 1, 0
    rows = session.execute(
        select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.kind, AuditEvent.task_id,
               AuditEvent.element_id, AuditEvent.data, AuditEvent.prev_hash, AuditEvent.hash)
        .where(AuditEvent.stream == stream).order_by(AuditEvent.seq)
    )
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return count, Break(stream, expected_seq, f"event {expected_seq} is missing")
        if row.prev_hash != prev:
            return count, Break(stream, row.seq, "prev_hash does not match the previous event")
        digest = event_hash(prev, stream, row.seq, row.at, row.actor, row.kind, row.task_id,
                            row.element_id, row.data)
        if digest != row.hash and redacted.get((stream, row.seq)) != (row.hash, digest):
            return count, Break(stream, row.seq, "event content does not match its hash (edited)")
        prev, expected_seq = row.hash, expected_seq + 1
    if expected_seq - 1 != head_seq:
        return count, Break(stream, expected_seq, f"stream ends at {expected_seq - 1} but its head "
                                                  f"says {head_seq} (events deleted)")
    if head_seq and prev != head_hash:
        return count, Break(stream, head_seq, "last event does not match the stream head")
    return count, None


def verify(session: Session, instance_id: int | None = None) -> VerifyReport:
    """Verify one instance's trail, or every stream when ``instance_id`` is None."""
    report = VerifyReport()
    heads: list[tuple[str, int, str]] = []
    query = select(Instance.id, Instance.audit_seq, Instance.audit_head)
    if instance_id is not None:
        query = query.where(Instance.id == instance_id)
    heads += [(instance_stream(i), seq, head) for i, seq, head in session.execute(query)]
    if instance_id is None:
        heads += [(s.stream, s.seq, s.head) for s in session.scalars(select(AuditStream))]
    redacted = redactions(session)
    for stream, seq, head in heads:
        count, broken = verify_stream(session, stream, seq, head, redacted)
        report.streams += 1
        report.events += count
        if broken:
            report.breaks.append(broken)
    return report


def events_for(session: Session, instance_id: int) -> list[AuditEvent]:
    """Return an instance's events in order."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.stream == instance_stream(instance_id))
                                .order_by(AuditEvent.seq)))
