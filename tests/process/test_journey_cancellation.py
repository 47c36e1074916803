"""Scenario: the customer cancels after the repair, while the case waits in feedback and closure.

The cancellation is an interrupting event subprocess of the after-sales process, so it stops
whatever the case is doing at that moment — not only the resolution."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Timer, WorkItem
from tests.process.driver import Desk


def _repaired(desk: Desk):
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)
    return case.repair().inspect_repair(passed=True)


def _assert_cancelled_and_nothing_left(desk: Desk, case) -> None:
    assert case.status == "completed"
    assert case.ticket().status == "closed" and case.ticket().outcome == "cancelled"
    assert case.notifications()[-1] == "cancelled"
    assert case.took("customer_cancelled", "release_reserved_parts", "pause_response_clock",
                     "pause_resolution_clock", "notify_cancellation", "close_cancelled_ticket", "end_cancelled")
    assert case.data()["cancellation"] == {"reason": "Moving abroad"}
    assert desk.read(lambda s: s.scalars(select(WorkItem)).all()) == []
    assert desk.read(lambda s: s.scalars(select(Timer).where(Timer.instance_id == case.instance_id)).all()) == []
    assert case.listening() == []


def test_customer_cancelling_while_the_confirmation_is_awaited_closes_the_ticket_as_cancelled(desk: Desk) -> None:
    # Given a repaired washer whose case waits for the customer's confirmation (feedback and closure)
    case = _repaired(desk)
    assert case.waiting_for() == ["customer_confirmation"]

    # When the customer cancels instead of confirming
    case.message("customer_cancel", {"reason": "Moving abroad"})

    # Then the whole case stops: the ticket is closed as cancelled, the customer told, nothing left
    _assert_cancelled_and_nothing_left(desk, case)
    assert not case.took("record_survey_answer", "end_closed")


def test_customer_cancelling_while_the_survey_is_awaited_ends_the_case_and_its_survey_timer(desk: Desk) -> None:
    # Given a confirmed repair whose case waits for the survey answer, with the survey's expiry timer
    case = _repaired(desk).confirm(True)
    assert case.waiting_for() == ["survey_answered"]
    assert desk.read(lambda s: s.scalars(select(Timer).where(Timer.instance_id == case.instance_id)).all())

    # When the customer cancels
    case.message("customer_cancel", {"reason": "Moving abroad"})

    # Then nothing is awaited any more: no survey, no timer, no work
    _assert_cancelled_and_nothing_left(desk, case)
