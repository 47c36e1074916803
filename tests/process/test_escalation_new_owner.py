"""The supervisor handling an escalation names a new owner: only a real agent or supervisor is accepted, and the
ticket's open work goes to them, noted on the ticket and in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import FormValidationError
from engine.models import AuditEvent, WorkItem
from handlers.ticket_notes import TicketActivity
from tests.process.driver import Desk

ACTION = {"root_cause": "workload", "action_taken": "Moved to the senior queue"}


def escalated(desk: Desk):  # type: ignore[no-untyped-def]
    """A high-priority request nobody answered in time: the agent's response and the escalation are open."""
    case = desk.open_case()
    case.register()
    response = case.data()["response_clock"]
    case.wait_until(response["warn_at"], minutes=1)
    case.complete("act_on_sla_warning", {"action": "Calling the customer right now"})
    case.wait_until(response["due_at"], minutes=1)
    assert case.lanes() == {"respond_to_customer": "agent", "handle_escalation": "supervisor"}
    return case


def assignees(desk: Desk, case) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return desk.read(lambda s: {w.element_id: w.assignee for w in s.scalars(
        select(WorkItem).where(WorkItem.instance_id == case.instance_id))})


@pytest.mark.parametrize("owner", ["nobody_such_user", "tom", "quinn"])
def test_a_new_owner_who_is_no_agent_or_supervisor_is_refused_on_the_field(desk: Desk, owner: str) -> None:
    # Given an open escalation
    case = escalated(desk)
    # When the supervisor names someone who does not exist, or a technician, or QA
    with pytest.raises(FormValidationError) as refused:
        case.complete("handle_escalation", {**ACTION, "new_owner": owner})
    # Then the form is refused on the new-owner field, and the escalation still waits
    assert [e.field for e in refused.value.errors] == ["new_owner"]
    assert f"'{owner}' is not in the staff catalogue" in refused.value.errors[0].message
    assert case.lanes() == {"respond_to_customer": "agent", "handle_escalation": "supervisor"}


def test_the_new_owner_gets_the_tickets_open_work_and_the_ticket_says_so(desk: Desk) -> None:
    # Given an open escalation while the agent's response still waits in the group's queue
    case = escalated(desk)
    assert assignees(desk, case)["respond_to_customer"] is None
    # When the supervisor names agent ann as the new owner
    case.complete("handle_escalation", {**ACTION, "new_owner": "ann"})
    # Then ann holds the ticket's open agent task, the ticket's timeline records her, and the trail names her
    assert assignees(desk, case) == {"respond_to_customer": "ann"}
    notes = desk.read(lambda s: [(a.kind, a.author, a.details) for a in s.scalars(
        select(TicketActivity).where(TicketActivity.ticket_number == case.ticket_number))])
    assert notes == [("owner", "sue", {"owner": "ann", "name": notes[0][2]["name"],
                                       "tasks": ["Respond to the customer"]})]
    done = desk.read(lambda s: [e.data for e in s.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == case.instance_id, AuditEvent.element_id == "set_ticket_owner",
        AuditEvent.kind == "task.completed"))])
    assert len(done) == 1 and "ann" in str(done[0])
    # And the case goes on: ann responds
    case.respond()


def test_without_a_new_owner_nothing_is_handed_over(desk: Desk) -> None:
    case = escalated(desk)
    case.complete("handle_escalation", ACTION)
    assert assignees(desk, case) == {"respond_to_customer": None}
    assert desk.read(lambda s: s.scalars(select(TicketActivity).where(
        TicketActivity.ticket_number == case.ticket_number)).all()) == []
