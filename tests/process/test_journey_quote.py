"""Scenarios of the quote and approval stage."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from engine.errors import FormValidationError
from engine.models import Incident
from handlers.parts import Part, Stock
from handlers.quote import Rate
from tests.process.driver import Desk, ProcessIncident

OUT_OF_WARRANTY = {"product": {"purchase_date": "2021-05-01"}}
MOTOR = [{"sku": "WM-MOTOR-INV", "quantity": 1}]


def test_goodwill_goes_to_the_supervisor_who_sends_it_back_then_approves(desk: Desk) -> None:
    # Given an out-of-warranty washer that needs an inverter motor
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    assert case.data()["entitlement"]["coverage"] == "none"

    # When the agent proposes to cover it as goodwill
    case.propose(MOTOR, goodwill=True, justification="Long-standing customer, motor failed early")

    # Then the decision table sends the quote to a supervisor
    assert case.lanes() == {"review_quote": "supervisor"}
    assert case.data()["approval_reason"] == "goodwill"

    # When the supervisor sends it back, the agent proposes again without goodwill
    case.complete("review_quote", {"decision": "send_back", "comment": "Offer 50 % off the labour instead"})
    assert case.ready() == ["propose_solution"]
    case.propose(MOTOR, labour_hours=1.0)
    # the second quote is below the authority limit and has no exception: the agent approves it
    assert case.data()["approver"] == "agent"
    assert case.waiting_for() == ["quote_response"]
    assert case.took("review_quote", "price_quote")


def test_quote_above_the_authority_limit_is_approved_by_the_supervisor(desk: Desk) -> None:
    # Given a quote above the agent's authority limit (three motors, no warranty)
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    case.propose([{"sku": "WM-MOTOR-INV", "quantity": 3}], labour_hours=4)
    assert case.data()["approval_reason"] == "above_authority"

    # When the supervisor approves, the quote goes to the customer
    case.complete("review_quote", {"decision": "approve"})
    assert case.notifications()[-1] == "quote"
    assert case.waiting_for() == ["quote_response"]


def test_supervisor_rejection_closes_the_ticket_as_rejected(desk: Desk) -> None:
    # Given an out-of-warranty repair the agent wants covered
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    case.propose(MOTOR, warranty_exception=True, justification="Customer insists the motor is a known defect")
    assert case.data()["approval_reason"] == "out_of_warranty_exception"

    # When the supervisor rejects the exception
    case.complete("review_quote", {"decision": "reject", "comment": "No known defect for this batch"})

    # Then the ticket is closed as rejected and the customer told
    assert case.status == "completed"
    assert case.ticket().outcome == "rejected"
    assert case.notifications()[-1] == "closed"
    assert case.took("end_quote_rejected", "close_unresolved_ticket", "notify_unresolved_closure")


def test_customer_declining_the_quote_closes_the_ticket(desk: Desk) -> None:
    # Given a quote sent to the customer
    case = desk.open_case()
    case.register().diagnose().propose()

    # When the customer declines it
    case.answer_quote(False, "Too expensive")

    # Then the ticket is closed as declined: no parts, no technician
    assert case.status == "completed"
    assert case.ticket().outcome == "declined"
    assert not case.took("supply_parts")
    assert case.took("end_quote_declined", "end_quote_not_accepted")


def test_no_answer_to_the_quote_gets_a_reminder_then_closes_as_no_response(desk: Desk) -> None:
    # Given a quote sent to the customer, who stays silent
    case = desk.open_case()
    case.register().diagnose().propose()

    # When the 3-day waiting period passes, the customer is reminded
    case.wait(days=3, minutes=1)
    assert "reminder" in case.notifications()
    assert case.took("quote_answer_overdue", "remind_quote")
    assert case.waiting_for() == ["quote_response"]

    # When 2 more days pass without an answer
    case.wait(days=2, minutes=1)

    # Then the ticket is closed as "no response"
    assert case.ticket().outcome == "no_response"
    assert case.took("quote_answer_final_overdue", "record_no_response", "close_unresolved_ticket")
    assert case.status == "completed"


def test_customer_answering_after_the_reminder_goes_ahead(desk: Desk) -> None:
    # Given a quote whose waiting period passed and a reminder was sent
    case = desk.open_case()
    case.register().diagnose().propose()
    case.wait(days=3, minutes=1)

    # When the customer accepts after the reminder
    case.answer_quote(True)

    # Then the repair goes ahead
    assert case.took("await_quote_answer_again", "confirm_quote_accepted")
    assert "repair_device" in case.ready()


def test_unknown_part_in_the_proposal_is_refused_in_the_form(desk: Desk) -> None:
    # Given an inspection
    case = desk.open_case()
    case.register().diagnose()

    # When the agent proposes a part number that is not in the catalogue
    with pytest.raises(FormValidationError) as refused:
        case.propose([{"sku": "WM-NOPE-99", "quantity": 1}])

    # Then the form names the part's field, the task stays open, and the corrected proposal is priced
    assert [e.field for e in refused.value.errors] == ["parts/0/sku"]
    assert case.ready() == ["propose_solution"]
    case.propose()
    assert case.waiting_for() == ["quote_response"]


def test_part_withdrawn_before_a_failed_quote_is_retried_goes_back_to_the_agent(desk: Desk) -> None:
    # Given an inspection that found the pump and the filter worn, while the labour rates are not loaded
    case = desk.open_case()
    parts = [{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 1}]
    case.register().diagnose(parts)
    rates = desk.read(lambda s: [{c.key: getattr(r, c.key) for c in Rate.__table__.columns}
                                 for r in s.scalars(select(Rate))])
    desk.trigger(lambda s: s.execute(delete(Rate)))

    # When the agent proposes both parts, pricing fails and an incident is opened
    with pytest.raises(ProcessIncident, match="no labour rates"):
        case.propose(parts)

    # When the rates are back but the filter was withdrawn from the catalogue, and the incident is retried
    def reload_without_filter(session) -> int:
        session.add_all(Rate(**rate) for rate in rates)
        session.execute(delete(Stock).where(Stock.sku == "WM-FILTER-01"))
        session.execute(delete(Part).where(Part.sku == "WM-FILTER-01"))
        return session.scalars(select(Incident.id).where(Incident.instance_id == case.instance_id)).one()
    incident = desk.trigger(reload_without_filter)
    desk.trigger(lambda s: desk.runtime.retry(s, incident))
    case.check()

    # Then no quote is sent: the agent is asked to correct the proposal, told which part is unknown
    assert case.lanes() == {"propose_solution": "agent"}
    assert "WM-FILTER-01" in case.data()["quote_error"]["message"]
    assert "quote" not in case.notifications()
    assert case.took("quote_part_unknown")

    # When the agent proposes the pump alone, the quote goes to the customer
    case.propose([{"sku": "WM-PUMP-01", "quantity": 1}])
    assert case.notifications()[-1] == "quote"
    assert case.waiting_for() == ["quote_response"]


def test_accepted_refund_resolves_without_repair(desk: Desk) -> None:
    # Given a washer that cannot be repaired economically
    case = desk.open_case()
    case.register().diagnose()

    # When the customer accepts a refund
    case.propose([], solution="refund", labour_hours=0, route="repair_centre")
    case.answer_quote(True)

    # Then no parts, dispatch or repair happen; the customer confirms and the ticket closes
    assert case.took("end_refund_agreed")
    assert not case.took("supply_parts") and not case.took("dispatch_service")
    case.confirm(True).answer_survey()
    assert case.ticket().outcome == "resolved"
