"""Four eyes on the pages: the supervisor who proposed a goodwill solution cannot approve its quote.

The task page says why and offers no Complete; the tasklist offers no Claim; a claim, a completion
or a reassignment to the proposer posted anyway is refused in the reader's language, changing nothing;
a second supervisor approves.
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

import readmodels
from engine.identity import Actor
from engine.models import AuditEvent, WorkItem
from tests.process.driver import Case, Desk

OUT_OF_WARRANTY = {"product": {"purchase_date": "2021-05-01"}}
MOTOR = [{"sku": "WM-MOTOR-INV", "quantity": 1}]
SUPERVISOR = Actor("supervisor", frozenset({"supervisor"}))
SECOND = Actor("supervisor2", frozenset({"supervisor"}))


@pytest.fixture
def proposed(role_desk: Desk, make_user) -> Case:  # type: ignore[no-untyped-def]
    """A goodwill repair the supervisor proposed (doing the agent's step); its approval waits."""
    make_user("supervisor2", "supervisor")
    desk = Desk(role_desk.database, role_desk.runtime, role_desk.clock, {**role_desk.staff, "agent": SUPERVISOR})
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    case.propose(MOTOR, goodwill=True, justification="Long-standing customer, motor failed early")
    assert case.lanes() == {"review_quote": "supervisor"}
    return case


def approval(case: Case) -> str:
    return next(w.task_id for w in case.work_items() if w.element_id == "review_quote")


def state(case: Case) -> tuple:  # type: ignore[type-arg]
    return (sorted((w.element_id, w.assignee) for w in case.work_items()),
            case.desk.read(lambda s: len(list(s.scalars(select(AuditEvent.id).where(
                AuditEvent.instance_id == case.instance_id))))))


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(("lang", "note", "refusal"), [
    ("en", "You completed “Propose a solution” of this ticket, so someone else must do “Approve the quote” "
           "(four-eyes rule).", "you completed 'Propose a solution' of {ticket}; someone else must do "
                                "'Approve the quote' (four-eyes rule)"),
    ("zh", "您完成了本工单的“提出解决方案”，因此“审批报价”必须由另一人完成（四眼原则）。",
     "您完成了工单 {ticket} 的“提出解决方案”，“审批报价”必须由另一人完成（四眼原则）。"),
])
def test_the_proposer_sees_why_and_is_refused_while_a_second_supervisor_approves(
        proposed: Case, signed_in, lang: str, note: str, refusal: str) -> None:
    task_id = approval(proposed)
    before = state(proposed)
    sam = signed_in("supervisor")
    sam.get(f"/lang/{lang}")

    # When the proposer opens the approval, Then the page says why, and Complete is switched off
    page = text(sam.get(f"/tasks/{task_id}"))
    assert note in page
    assert 'disabled aria-describedby="four-eyes"' in page
    assert f'action="/tasks/{task_id}/claim"' not in page
    # and the reassign list offers the other supervisor, not the proposer
    assert 'value="supervisor2"' in page and 'value="supervisor"' not in page
    # the tasklist offers no Claim on that row
    listing = text(sam.get("/tasks?tab=all"))
    assert f'action="/tasks/{task_id}/claim"' not in listing
    assert ("需由他人办理（四眼原则）" if lang == "zh" else "Not for you: four eyes") in listing

    # When the proposer claims or completes it anyway, Then both are refused, naming the two tasks
    said = refusal.format(ticket=proposed.ticket_number)
    claimed = sam.post(f"/tasks/{task_id}/claim", {"next": f"/tasks/{task_id}"})
    assert claimed.status_code == 403 and said in text(claimed)
    done = sam.post(f"/tasks/{task_id}", {"decision": "approve"})
    assert done.status_code == 403 and said in text(done)
    assert state(proposed) == before

    # When another supervisor (admin) tries to give it to the proposer, Then the form says so on its field
    admin = signed_in("admin")
    admin.get("/lang/en")
    admin.get(f"/tasks/{task_id}")
    given = admin.post(f"/tasks/{task_id}/reassign", {"assignee": "supervisor", "reason": "he knows the case"})
    assert given.status_code == 422, text(given)[-3000:]
    assert (f"supervisor completed 'Propose a solution' of {proposed.ticket_number}, so 'Approve the quote' must "
            "go to someone else (four-eyes rule)") in text(given)
    assert state(proposed) == before

    # When the second supervisor approves, Then the quote goes to the customer
    sue = signed_in("supervisor2")
    assert 'id="four-eyes"' not in text(sue.get(f"/tasks/{task_id}"))
    assert sue.post(f"/tasks/{task_id}", {"decision": "approve"}).status_code == 302
    assert proposed.data()["approval"]["decision"] == "approve"
    assert proposed.waiting_for() == ["quote_response"]


def test_after_proposing_the_supervisor_is_not_led_to_approve_it(proposed: Case) -> None:
    # the next step offered after a completion skips a task the user may not do
    def next_for(actor: Actor) -> str | None:
        return proposed.desk.read(lambda s: readmodels.next_task_for(s, actor, proposed.instance_id))

    assert next_for(SUPERVISOR) is None
    assert next_for(SECOND) == approval(proposed)
    assert proposed.desk.read(lambda s: s.get(WorkItem, approval(proposed)).assignee) is None
