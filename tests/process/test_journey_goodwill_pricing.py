"""Scenarios of approved exceptions: goodwill and out-of-warranty cover change what the customer pays."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.errors import FormValidationError
from handlers.outbox import Outbox
from handlers.quote import Quote
from readmodels.tickets import quote_document
from tests.process.driver import Desk

OUT_OF_WARRANTY = {"product": {"purchase_date": "2021-05-01"}}
MOTOR = [{"sku": "WM-MOTOR-INV", "quantity": 1}]


def quotes(desk: Desk, ticket: str) -> list[Quote]:
    return desk.read(lambda s: list(s.scalars(select(Quote).where(Quote.ticket_number == ticket).order_by(Quote.id))))


def quote_notice(desk: Desk, ticket: str) -> str:
    return desk.read(lambda s: s.scalars(select(Outbox.body).where(Outbox.ticket_number == ticket,
                                                                   Outbox.milestone == "quote")).one())


def test_approved_goodwill_share_halves_what_the_customer_pays(desk: Desk) -> None:
    # Given an out-of-warranty washer that needs an inverter motor
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    # When the agent proposes goodwill of half of what the customer would pay
    case.propose(MOTOR, goodwill=True, concession_kind="share", concession_value=50,
                 justification="Long-standing customer, motor failed early")
    # Then a supervisor must approve it, and sees the reduced amount
    assert case.lanes() == {"review_quote": "supervisor"}
    quote = case.data()["quote"]
    total, pays = Decimal(quote["total"]), Decimal(quote["customer_pays"])
    assert Decimal(quote["covered"]) == 0 and pays == total / 2 and Decimal(quote["concession"]) == total / 2
    assert case.notifications()[-1] != "quote"  # nothing reaches the customer before the approval
    # When the supervisor approves
    case.complete("review_quote", {"decision": "approve"})
    # Then the customer is quoted the reduced amount, in the message and on the quote document
    assert case.notifications()[-1] == "quote" and case.waiting_for() == ["quote_response"]
    [stored] = quotes(desk, case.ticket_number)
    assert stored.customer_pays == pays and stored.total == total
    assert stored.lines[-1]["kind"] == "concession" and stored.lines[-1]["amount"] == f"-{pays}"
    assert str(pays) in quote_notice(desk, case.ticket_number)
    document = desk.read(lambda s: quote_document(s, case.ticket_number, stored.id))
    assert "Goodwill (50 %)" in document and f"−{pays}" in document and f"{pays} " in document


def test_an_out_of_warranty_exception_takes_an_amount_off(desk: Desk) -> None:
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    case.propose(MOTOR, warranty_exception=True, concession_kind="amount", concession_value=100,
                 justification="Known motor defect of this batch")
    assert case.data()["approval_reason"] == "out_of_warranty_exception"
    case.complete("review_quote", {"decision": "approve"})
    [stored] = quotes(desk, case.ticket_number)
    assert stored.customer_pays == stored.total - Decimal("100.00")
    assert stored.lines[-1]["description"] == "Out-of-warranty exception (100.00)"


def test_an_exception_without_a_share_or_amount_covers_everything(desk: Desk) -> None:
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    case.propose(MOTOR, warranty_exception=True, justification="Known motor defect of this batch")
    case.complete("review_quote", {"decision": "approve"})
    [stored] = quotes(desk, case.ticket_number)
    assert stored.customer_pays == 0 and stored.total > 0


def test_the_supervisor_sends_back_and_the_agent_lowers_the_goodwill(desk: Desk) -> None:
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    case.propose(MOTOR, goodwill=True, justification="Long-standing customer, motor failed early")
    case.complete("review_quote", {"decision": "send_back", "comment": "25 % at most"})
    case.propose(MOTOR, goodwill=True, concession_kind="share", concession_value=25,
                 justification="Long-standing customer, 25 % as agreed")
    case.complete("review_quote", {"decision": "approve"})
    first, second = quotes(desk, case.ticket_number)
    assert first.customer_pays == 0
    assert second.customer_pays == (second.total * Decimal("0.75")).quantize(Decimal("0.01"))


@pytest.mark.parametrize(("changes", "field"), [
    ({"goodwill": True, "concession_kind": "share", "concession_value": 150,
      "justification": "Long-standing customer"}, "concession_value"),
    ({"concession_kind": "amount", "concession_value": 50}, "concession_kind"),
    ({"goodwill": True, "concession_kind": "share", "justification": "Long-standing customer"}, "concession_value"),
])
def test_a_concession_out_of_bounds_or_without_an_exception_is_refused(desk: Desk, changes, field) -> None:
    case = desk.open_case()
    case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
    with pytest.raises(FormValidationError) as caught:
        case.propose(MOTOR, **changes)
    # Then the form names the field, and nothing is priced
    assert field in [e.field for e in caught.value.errors]
    assert case.ready() == ["propose_solution"] and quotes(desk, case.ticket_number) == []
