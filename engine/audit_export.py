"""Export one instance's complete audit trail so that a third party can re-verify it.

The export carries every event field that goes into the hash (see :mod:`engine.audit`
and ``docs/audit-verification.md``) plus the stream's recorded head. When personal
data is masked for the reader, the events whose data changed by masking are flagged
``"masked": true``: their links are still checked, their content cannot be.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .audit import GENESIS, canonical, instance_stream
from .errors import NotFound
from .models import Instance
from .privacy import mask_personal
from .trace import instance_events

FORMAT = "aftersales-audit-trail/1"
CSV_FIELDS = ("seq", "at", "actor", "kind", "task_id", "element_id", "data", "prev_hash", "hash", "masked")


def export_trail(session: Session, instance_id: int, reveal: bool, exported_by: str,
                 now: datetime) -> dict[str, Any]:
    """Return the instance's trail as a self-contained, verifiable document."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    page = events_page(session, instance_id, reveal, 0, 10**9)
    events = page["events"]
    return {"format": FORMAT, "stream": instance_stream(instance_id),
            "instance": {"id": instance.id, "business_key": instance.business_key,
                         "process_id": instance.process_id, "deployment_id": instance.deployment_id,
                         "status": instance.status},
            "head": page["head"], "exported_at": now.isoformat(timespec="microseconds"), "exported_by": exported_by,
            "masked": any(e.get("masked") for e in events), "events": events}


def trail_csv(doc: dict[str, Any]) -> str:
    """Return an exported trail as CSV: one event a row, ``data`` as canonical JSON."""
    out = io.StringIO()
    out.write(f"# {doc['format']} stream={doc['stream']} head_seq={doc['head']['seq']} "
              f"head_hash={doc['head']['hash']}\n")
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for ev in doc["events"]:
        writer.writerow({**ev, "data": canonical(ev["data"]), "masked": "1" if ev.get("masked") else "",
                         "task_id": ev["task_id"] or "", "element_id": ev["element_id"] or ""})
    return out.getvalue()


def trail_from_csv(text: str) -> dict[str, Any]:
    """Read a CSV export back into the JSON form (what a verifier of the CSV does)."""
    header, _, body = text.removeprefix("\ufeff").partition("\n")  # the BOM Excel needs
    meta = dict(part.split("=", 1) for part in header.lstrip("# ").split()[1:])
    events = []
    for row in csv.DictReader(io.StringIO(body)):
        events.append({"seq": int(row["seq"]), "at": row["at"], "actor": row["actor"], "kind": row["kind"],
                       "task_id": row["task_id"] or None, "element_id": row["element_id"] or None,
                       "data": json.loads(row["data"]), "prev_hash": row["prev_hash"], "hash": row["hash"],
                       **({"masked": True} if row["masked"] else {})})
    return {"stream": meta["stream"], "head": {"seq": int(meta["head_seq"]), "hash": meta["head_hash"]},
            "events": events}


def verify_export(doc: dict[str, Any]) -> list[str]:
    """Check an exported trail as a third party would; return the problems (none = intact)."""
    prev, problems = GENESIS, []
    for n, ev in enumerate(doc["events"], start=1):
        if ev["seq"] != n:
            problems.append(f"event {n} is missing")
            break
        if ev["prev_hash"] != prev:
            problems.append(f"event {n}: prev_hash does not match the previous event")
        body = [prev, doc["stream"], ev["seq"], ev["at"], ev["actor"], ev["kind"], ev["task_id"],
                ev["element_id"], ev["data"]]
        digest = hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()
        if not ev.get("masked") and digest != ev["hash"]:
            problems.append(f"event {n}: content does not match its hash")
        prev = ev["hash"]
    if (doc["head"]["seq"], doc["head"]["hash"]) != (len(doc["events"]), prev):
        problems.append("the trail does not end at its recorded head (events missing at the end?)")
    return problems


def events_page(session: Session, instance_id: int, reveal: bool, after_seq: int = 0,
                limit: int = 500) -> dict[str, Any]:
    """Return a page of an instance's events with their hashes (personal data masked unless ``reveal``)."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    events = []
    for ev in instance_events(session, instance_id):
        if ev.seq <= after_seq:
            continue
        if len(events) >= limit:
            break
        data = ev.data if reveal else mask_personal(ev.data)
        events.append({"seq": ev.seq, "at": ev.at.isoformat(timespec="microseconds"), "actor": ev.actor,
                       "kind": ev.kind, "task_id": ev.task_id, "element_id": ev.element_id, "data": data,
                       "prev_hash": ev.prev_hash, "hash": ev.hash, **({"masked": True} if data != ev.data else {})})
    return {"stream": instance_stream(instance_id), "masked": not reveal,
            "head": {"seq": instance.audit_seq, "hash": instance.audit_head or GENESIS}, "events": events}
