"""The mail page: what the product sent (or failed to send) to customers and staff.

A thin view over :func:`handlers.outbox.sent_mail`, for supervisors and agents: the
rendered notifications in the outbox with their status and, for failures, why. In the
demo (``aftersales demo``) the e-mail goes to a local mail sink, so delivered means
really received.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.errors import InvalidInput
from handlers.outbox import STATUSES, sent_mail

from . import get_services
from .access import roles_required

bp = Blueprint("mail", __name__, url_prefix="/mail")
READERS = frozenset({"supervisor", "agent"})


@bp.get("/")
@roles_required(READERS)
def index():  # type: ignore[no-untyped-def]
    """List the newest notifications, optionally of one status or ticket."""
    status = request.args.get("status", "").strip() or None
    if status is not None and status not in STATUSES:
        raise InvalidInput("unknown status '{status}'; use one of {statuses}",
                           field="status", params={"status": status, "statuses": ", ".join(STATUSES)})
    ticket = request.args.get("ticket", "").strip()[:32] or None
    with get_services().db.transaction(write=False) as session:
        rows, counts = sent_mail(session, status, ticket)
        session.expunge_all()
    return render_template("mail/index.html", rows=rows, counts=counts, status=status, ticket=ticket or "",
                           statuses=STATUSES)
