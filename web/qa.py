"""QA's landing page: the closed tickets drawn for review (handlers.qa.Sample), each with its
open review task, its score once reviewed and a link to the whole ticket record.

QA works here; supervisors and admins may read. Filters (reviewed / waiting, sampled dates)
are kept in the URL; a bad date is refused on its field (400) and nothing is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from engine.models import AuditEvent, Instance, WorkItem
from handlers.qa import Sample

from . import get_services
from .access import roles_required
from .i18n import translate as _

bp = Blueprint("qa", __name__, url_prefix="/qa")
READERS = frozenset({"qa", "supervisor", "admin"})
REVIEW = "review_ticket_quality"
STATES = ("", "waiting", "reviewed")
SCORES = ("response", "diagnosis", "communication", "documentation", "overall")


@dataclass
class Sampled:
    """One ticket drawn for QA review."""

    ticket: str
    sampled_at: datetime
    rate: float
    task_id: str | None = None
    assignee: str | None = None
    scores: dict[str, Any] | None = None
    reviewer: str | None = None
    reviewed_at: datetime | None = None


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(name) from None


def _rows(s: Any, start: date | None, end: date | None) -> list[Sampled]:
    query = select(Sample).where(Sample.sampled.is_(True)).order_by(Sample.created_at.desc(), Sample.id.desc())
    if start:
        query = query.where(Sample.created_at >= datetime.combine(start, time(), UTC))
    if end:
        query = query.where(Sample.created_at < datetime.combine(end + timedelta(days=1), time(), UTC))
    rows: dict[str, Sampled] = {}
    for sample in s.scalars(query.limit(500)):
        rows.setdefault(sample.ticket_number, Sampled(sample.ticket_number, sample.created_at, sample.rate))
    if not rows:
        return []
    for item in s.scalars(select(WorkItem).where(WorkItem.element_id == REVIEW,
                                                 WorkItem.business_key.in_(list(rows)))):
        rows[item.business_key].task_id, rows[item.business_key].assignee = item.task_id, item.assignee
    done = s.execute(select(AuditEvent, Instance.business_key)
                     .join(Instance, Instance.id == AuditEvent.instance_id)
                     .where(AuditEvent.kind == "task.completed", AuditEvent.element_id == REVIEW,
                            Instance.business_key.in_(list(rows)))
                     .order_by(AuditEvent.id))
    for event, key in done:
        form = (event.data or {}).get("form") or {}
        row = rows[key]
        row.scores = {k: form.get(k) for k in (*SCORES, "comment") if form.get(k) not in (None, "")}
        row.reviewer, row.reviewed_at = event.actor, event.at
    return list(rows.values())


@bp.get("/")
@roles_required(READERS)
def sample():  # type: ignore[no-untyped-def]
    """List the tickets sampled for QA review with their review task or score; filter by state and dates."""
    state = request.args.get("state", "")
    state = state if state in STATES else ""
    error = None
    start = end = None
    try:
        start, end = _day("from"), _day("to")
    except ValueError as bad:
        error = (str(bad), _("Enter a date as YYYY-MM-DD."))
    if error is None and start and end and end < start:
        error = ("to", _("The end date is before the start date."))
    rows: list[Sampled] = []
    if error is None:
        with get_services().db.transaction(write=False) as s:
            rows = _rows(s, start, end)
    counts = {"waiting": sum(1 for r in rows if r.scores is None),
              "reviewed": sum(1 for r in rows if r.scores is not None)}
    if state:
        rows = [r for r in rows if (r.scores is not None) == (state == "reviewed")]
    shown = {"state": state, "from": request.args.get("from", "")[:10], "to": request.args.get("to", "")[:10]}
    return render_template("qa/sample.html", rows=rows, counts=counts, shown=shown, error=error,
                           scores=SCORES), 400 if error else 200
