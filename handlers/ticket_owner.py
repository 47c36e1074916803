"""A ticket's owner, named by the supervisor who handles its escalation.

The form's ``new_owner`` field picks from the ``staff`` catalogue (active users who work the front
office: agents and supervisors), so an unknown or inactive name is refused on its field when the
form is submitted. The ``ticket.set_owner`` service task after the escalation then makes the choice
take effect: the ticket's open tasks in lanes the owner works are given to them, and the ticket's
timeline records "new owner" (a ``ticket_activity`` row of kind ``owner``); the service task's
result in the audit trail names the owner and the tasks handed over.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.forms import Choice, catalogue
from engine.identity import Actor
from engine.models import User, WorkItem
from engine.registry import HandlerContext, handler, reserved_assignee

from .ticket_notes import TicketActivity
from .values import invalid

#: the roles of the people a ticket can belong to (who work its front-office tasks)
OWNER_ROLES = ("agent", "supervisor")
#: the escalation task just completed (its row goes when the trigger ends): not handed over
HANDLED = "handle_escalation"


def _owner_candidates(session: Any) -> list[User]:
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [u for u in users if set(u.role_names) & set(OWNER_ROLES)]


@catalogue("staff")
def staff(session: Any) -> list[Choice]:
    """Active agents and supervisors, by user name (the people a ticket can belong to)."""
    return [Choice(u.username, f"{u.display_name} ({u.username})") for u in _owner_candidates(session)]


@handler("ticket.set_owner")
def set_owner(ctx: HandlerContext, ticket_number: str, owner: Any = None) -> dict[str, Any]:
    """Make ``owner`` the ticket's owner: give them its open tasks in their lanes and note it on the ticket.

    ticket_number: the ticket, e.g. AS-20260302-00001
    owner: the user name of an active agent or supervisor; empty or None changes nothing
    """
    if owner in (None, ""):
        return {"owner": None, "tasks": []}
    user = next((u for u in _owner_candidates(ctx.session) if u.username == owner), None)
    if user is None:
        raise invalid("owner", f"'{owner}' is not an active agent or supervisor")
    actor = Actor.of(user)
    handed: list[str] = []
    items = ctx.session.scalars(select(WorkItem).where(WorkItem.instance_id == ctx.instance_id,
                                                       WorkItem.element_id != HANDLED)
                                .order_by(WorkItem.created_at))
    for item in items:
        theirs = item.role in actor.roles or (item.role == "agent" and actor.is_supervisor)
        if not theirs or item.assignee == user.username:
            continue
        if reserved_assignee(ctx.session, item.business_key, item.element_id, item.role):
            continue  # a dispatched visit stays with its technician
        item.assignee, item.claimed_at = user.username, ctx.now
        handed.append(item.name)
    ctx.session.add(TicketActivity(ticket_number=ticket_number, instance_id=ctx.instance_id, kind="owner",
                                   author=ctx.actor[:120], created_at=ctx.now, body="",
                                   details={"owner": user.username, "name": user.display_name, "tasks": handed}))
    ctx.session.flush()
    return {"owner": user.username, "tasks": handed}
