"""The KPI facts of tickets that went through the real process, against hand-computed values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from analytics.facts import KpiSource, KpiTask, KpiTicket
from handlers.sla import SlaClock
from tests.kpi.conftest import refreshed, work
from tests.process.driver import Desk

HOUR = 3600.0
USAGE = {"category": "usage", "symptoms": [], "description": "Which detergent should I use?"}


def facts(desk: Desk) -> dict[str, KpiTicket]:
    return desk.read(lambda s: {f.number: f for f in s.scalars(select(KpiTicket))})


def tasks(desk: Desk, number: str) -> dict[str, KpiTask]:
    return desk.read(lambda s: {t.element_id: t for t in s.scalars(
        select(KpiTask).join(KpiTicket, KpiTicket.ticket_id == KpiTask.ticket_id).where(KpiTicket.number == number))})


def test_question_answered_at_first_contact_is_timed_and_counts_as_first_contact_resolution(desk: Desk) -> None:
    # Given a usage question that waits 2 h in the queue and takes the agent 6 minutes
    case = desk.open_case()
    case.register(urgency="low", impact="low", fault=USAGE)
    work(case, "respond_to_customer", {"resolved_now": True, "answer": "Low-foam detergent."},
         wait=timedelta(hours=2), handle=timedelta(minutes=6))

    # When the customer confirms and answers the survey a day later
    desk.clock.advance(timedelta(days=1))
    case.confirm(True).answer_survey(csat=5, nps=10)
    refreshed(desk)

    # Then the facts say: first response after 2 h 6 min, met, resolved at first contact, satisfied
    fact = facts(desk)[case.ticket_number]
    assert fact.first_response_seconds == 2 * HOUR + 360 and fact.response_met is True
    assert fact.resolution_seconds == 2 * HOUR + 360 and fact.paused_seconds == 0
    assert (fact.fcr, fact.reopened, fact.contacts, fact.status, fact.outcome) == (True, 0, 1, "closed", "resolved")
    assert (fact.csat, fact.nps, fact.qa_score) == (5, 10, None)
    assert (fact.channel, fact.product_line, fact.priority, fact.fault_category) == (
        "hotline", "washing_machine", "low", "usage")
    # And the handle time of the answer is its working time, at the agent's rate (60 CNY/h), plus the call
    respond = tasks(desk, case.ticket_number)["respond_to_customer"]
    assert (respond.role, respond.actor, respond.waiting_seconds, respond.working_seconds) == (
        "agent", "ann", 2 * HOUR, 360.0)
    assert fact.labour_seconds == 360.0 and fact.labour_cost == pytest.approx(6.0)
    assert fact.handling_cost == 8.0 and fact.parts_cost == 0.0


def test_question_answered_at_first_contact_is_not_first_contact_resolution_while_the_ticket_is_open(
        desk: Desk) -> None:
    # Given a usage question answered at the first contact, the customer not yet confirming
    case = desk.open_case()
    case.register(urgency="low", impact="low", fault=USAGE)
    desk.clock.advance(timedelta(hours=1))
    case.respond(resolved=True, answer="Low-foam detergent.")
    refreshed(desk)

    # Then it is not (yet) a first-contact resolution: only resolved, closed tickets count
    fact = facts(desk)[case.ticket_number]
    assert fact.status == "open" and fact.fcr is False

    # And once the customer confirms (and answers the survey) it is closed as resolved at the first contact
    case.confirm(True).answer_survey(csat=4, nps=8)
    refreshed(desk)
    fact = facts(desk)[case.ticket_number]
    assert (fact.status, fact.outcome, fact.fcr) == ("closed", "resolved", True)


def test_time_waiting_for_the_customer_is_left_out_of_the_resolution_time(desk: Desk) -> None:
    # Given a washer repair whose quote waits 30 h for the customer's answer
    case = desk.open_case()
    case.register()
    desk.clock.advance(timedelta(hours=1))
    case.respond()
    desk.clock.advance(timedelta(hours=1))
    case.assist()
    desk.clock.advance(timedelta(hours=2))
    case.inspect_on_site()
    desk.clock.advance(timedelta(hours=1))
    case.propose()  # the resolution clock pauses while the quote is with the customer
    desk.clock.advance(timedelta(hours=30))
    case.answer_quote(True)

    # When the technician repairs it 3 h later and the inspection passes after another hour
    desk.clock.advance(timedelta(hours=3))
    case.repair()
    desk.clock.advance(timedelta(hours=1))
    case.inspect_repair(passed=True)
    refreshed(desk)

    # Then the resolution time is 39 h elapsed less 30 h paused: 9 h, within the 48 h target
    fact = facts(desk)[case.ticket_number]
    assert fact.paused_seconds == 30 * HOUR
    assert fact.resolution_seconds == 9 * HOUR
    assert fact.first_response_seconds == 1 * HOUR
    assert fact.status == "open" and fact.stage  # still waiting for the customer's confirmation
    assert fact.parts_needed is True and fact.backordered is False
    assert fact.parts_cost == 85.0  # one drain pump used, at its catalogue price
    assert fact.fcr is False


def test_reopened_ticket_is_not_first_contact_resolution_and_resolves_at_its_last_round(desk: Desk) -> None:
    # Given a question answered at first contact, then reported as not solved 4 h later
    case = desk.open_case()
    case.register(urgency="low", impact="low", fault=USAGE)
    desk.clock.advance(timedelta(hours=1))
    case.respond(resolved=True, answer="Low-foam detergent, max line 2.")
    desk.clock.advance(timedelta(hours=4))
    case.confirm(False)

    # When the agent answers again 2 h later, and the customer confirms, without a survey answer
    desk.clock.advance(timedelta(hours=2))
    case.respond(resolved=True, answer="Use the eco program with low-foam detergent.")
    case.confirm(True)
    case.wait(days=7, minutes=1)  # the survey expires
    refreshed(desk)

    # Then it counts one reopening, no first-contact resolution, no survey answer, resolved after 7 h
    fact = facts(desk)[case.ticket_number]
    assert (fact.reopened, fact.fcr, fact.csat, fact.nps) == (1, False, None, None)
    assert fact.resolution_seconds == 7 * HOUR
    assert fact.first_response_seconds == 1 * HOUR  # the first response is the first one
    assert fact.status == "closed" and fact.outcome == "resolved"


def test_repeat_contacts_and_back_orders_are_counted_on_the_ticket(desk: Desk) -> None:
    # Given a repair that needs more motors than are in stock
    motors = [{"sku": "WM-MOTOR-INV", "quantity": 5}]
    case = desk.open_case()
    case.register().diagnose(motors).propose(motors)
    case.complete("review_quote", {"decision": "approve"})
    case.answer_quote(True)

    # When the customer chases by e-mail while the parts are back-ordered
    again = desk.open_case()
    again.register(channel="email", fault={"description": "Where are my parts?"})
    refreshed(desk)

    # Then the ticket has two contacts (hotline and e-mail handling costs) and a back-order
    fact = facts(desk)[case.ticket_number]
    assert (fact.contacts, fact.backordered, fact.parts_needed) == (2, True, True)
    assert fact.handling_cost == 8.0 + 5.0
    assert fact.fcr is False
    assert len(facts(desk)) == 1


def test_first_response_without_an_sla_clock_is_the_first_human_step_after_intake(desk: Desk) -> None:
    # Given a ticket the agent answers 30 hours after it was opened
    case = desk.open_case()
    case.register(urgency="low", impact="low", fault=USAGE)
    desk.clock.advance(timedelta(hours=30))
    case.respond(resolved=False, answer="We will look into it.")

    # When its SLA clocks are gone (as for a process version that keeps none)
    desk.trigger(lambda s: s.execute(delete(SlaClock)))
    refreshed(desk)

    # Then the first response is that answer, and it missed the 24 h target
    fact = facts(desk)[case.ticket_number]
    assert fact.first_response_seconds == 30 * HOUR and fact.response_met is False


def test_refresh_rewrites_only_what_changed(desk: Desk) -> None:
    # Given two tickets whose facts are up to date
    first, second = desk.open_case(), desk.open_case()
    first.register(urgency="low", impact="low", fault=USAGE)
    second.register(customer={"phone": "+86 139 0000 0002", "email": "wang@example.com"},
                    product={"serial_number": "WMF80-0002"}, urgency="low", impact="low", fault=USAGE)
    assert refreshed(desk) == 2
    assert refreshed(desk) == 0

    # When only the first moves on
    desk.clock.advance(timedelta(hours=1))
    first.respond(resolved=True, answer="Low-foam detergent.")

    # Then one instance is refreshed, and its facts follow
    assert refreshed(desk) == 1
    assert facts(desk)[first.ticket_number].first_response_seconds == HOUR
    assert facts(desk)[second.ticket_number].first_response_seconds is None
    versions = desk.read(lambda s: dict(s.execute(select(KpiSource.instance_id, KpiSource.version)).all()))
    assert set(versions) == {first.instance_id, second.instance_id}


def test_backlog_stage_is_the_process_stage_not_an_sla_event_subprocess(desk: Desk) -> None:
    # Given a ticket waiting on the on-site inspection when 75 % of its resolution time is used
    case = desk.open_case()
    case.register().respond().assist()
    case.wait_until(case.data()["resolution_clock"]["warn_at"], minutes=1)
    refreshed(desk)

    # Then its stage is the stage the work waits in, not the "SLA warning" event subprocess
    fact = facts(desk)[case.ticket_number]
    assert fact.stage not in ("SLA warning", "SLA breached")


def test_first_response_counts_from_the_moment_the_request_arrived_not_from_its_registration(desk: Desk) -> None:
    # Given a request that waits 30 h before an agent registers it, then is answered an hour later
    case = desk.open_case()
    desk.clock.advance(timedelta(hours=30))
    case.register(urgency="low", impact="low", fault=USAGE)
    desk.clock.advance(timedelta(hours=1))
    case.respond(resolved=True, answer="Low-foam detergent.")
    refreshed(desk)

    # Then its first response took 31 h, not 1 h
    fact = facts(desk)[case.ticket_number]
    assert fact.first_response_seconds == 31 * HOUR


def test_backlog_stage_is_the_stage_waited_in_not_the_repeat_contact_event_subprocess(desk: Desk) -> None:
    # Given a quote waiting for the customer's answer when the customer calls again
    case = desk.open_case()
    case.register().respond().assist()
    case.inspect_on_site()
    case.propose()
    refreshed(desk)
    waiting_stage = facts(desk)[case.ticket_number].stage
    case.message("customer_contact", {"channel": "chat", "fault": {"description": "Any news?"}})
    assert "review_repeat_contact" in case.lanes()
    refreshed(desk)

    # Then the backlog still shows the stage it waits in: "Repeat contact" is an event subprocess, not a stage
    fact = facts(desk)[case.ticket_number]
    assert fact.stage == waiting_stage and fact.stage != "Repeat contact"
