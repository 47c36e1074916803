"""The mail intake log: every inbound e-mail and what became of it, for supervisors and admins.

A thin view over :func:`handlers.mail_intake.intake_log`: received when, from whom (masked
for roles that do not see customers' e-mail addresses, ``engine.privacy.ROLE_SEES``), the
ticket it opened or joined, or why it was refused (said in the reader's language).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.errors import InvalidInput
from engine.privacy import mask_for, sees
from handlers.mail_intake import OUTCOMES, intake_log

from . import get_services
from .access import current_actor, roles_required

bp = Blueprint("mail_intake", __name__, url_prefix="/mail/intake")
READERS = frozenset({"supervisor", "admin"})


@bp.get("/")
@roles_required(READERS)
def index():  # type: ignore[no-untyped-def]
    """List the newest inbound messages, optionally of one outcome."""
    outcome = request.args.get("outcome", "").strip() or None
    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidInput("unknown outcome '{outcome}'; use one of {outcomes}", field="outcome",
                           params={"outcome": outcome, "outcomes": ", ".join(OUTCOMES)})
    visible = sees(current_actor())
    with get_services().db.transaction(write=False) as session:
        rows, counts = intake_log(session, outcome)
        entries = [{"id": r.id, "received_at": r.received_at, "source": r.source, "outcome": r.outcome,
                    "reason": r.reason, "ticket": r.ticket_number, "size": r.size,
                    "sender": mask_for({"email": r.sender}, visible)["email"] if r.sender else "",
                    "subject": r.subject if "email" in visible else None,
                    "template": (r.details or {}).get("template"), "params": (r.details or {}).get("values") or {},
                    "kept": (r.details or {}).get("kept") or [], "refused": (r.details or {}).get("refused") or []}
                   for r in rows]
    return render_template("mail/intake.html", entries=entries, counts=counts, outcome=outcome, outcomes=OUTCOMES)
