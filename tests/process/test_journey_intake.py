"""Scenarios of intake, entitlement and first-contact resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.qa import draw_for
from handlers.ticketing import Ticket
from handlers.values import local_date
from tests.process.driver import Desk


def first_ticket_day(start: datetime, sampled: bool, rate: float) -> datetime:
    """Return a morning from ``start`` on whose first ticket the QA draw falls as wanted."""
    day = start
    while (draw_for(f"AS-{local_date(day):%Y%m%d}-00001") < rate) != sampled:
        day += timedelta(days=1)
    return day


def test_repeat_contact_is_attached_to_the_open_ticket_whatever_the_channel(desk: Desk) -> None:
    # Given an open ticket about Li Na's washer, opened on the hotline
    first = desk.open_case()
    first.register()
    ticket = first.ticket_number

    # When Li Na writes again by e-mail about the same washer
    second = desk.open_case()
    second.register(channel="email", fault={"description": "Still no news about my washer?"})

    # Then the contact is attached to the open ticket, she is told so, and no ticket is opened
    assert second.status == "completed"
    assert second.took("attach_repeat_contact", "notify_contact_attached", "end_contact_attached")
    assert not second.took("open_new_ticket")
    assert second.data()["attachment"]["attached_to"] == ticket
    assert desk.read(lambda s: s.query(Ticket).count()) == 1
    assert first.notifications() == ["received", "attached"]
    assert first.ready() == ["respond_to_customer"]


def test_unknown_model_is_entitled_by_the_agent(desk: Desk) -> None:
    # Given a request about a model the catalogue does not know
    case = desk.open_case()
    case.register(product={"model": "XX-9000"})

    # Then the agent checks the warranty card herself
    assert case.ready() == ["confirm_entitlement"]
    case.complete("confirm_entitlement", {"coverage": "parts_only", "reason": "Warranty card seen, 2 years parts"})

    # And the ticket is classified and goes on to the first response
    data = case.data()
    assert data["entitlement"] == {"coverage": "parts_only", "reason": "Warranty card seen, 2 years parts",
                                   "in_warranty": True}
    assert case.took("warranty_model_unknown", "classify_request")
    assert case.ready() == ["respond_to_customer"]


def test_usage_question_answered_at_first_contact_skips_to_confirmation(desk: Desk) -> None:
    # Given a VIP customer's usage question, on a day whose first ticket QA samples
    desk.clock.set(first_ticket_day(desk.clock.now(), sampled=True, rate=0.2))
    case = desk.open_case(channel="chat")
    case.register(customer={"tier": "vip"}, urgency="low", impact="low",
                  fault={"category": "usage", "description": "How do I start the drum cleaning program?",
                         "symptoms": []})
    assert case.data()["priority"] == "high"  # a VIP is never below high

    # When the agent answers it at first contact
    case.respond(resolved=True, answer="Hold Temp and Spin for 3 seconds to start drum cleaning.")

    # Then diagnosis, quote and repair are skipped: the customer is asked to confirm
    assert case.waiting_for() == ["customer_confirmation"]
    assert not case.took("diagnose_fault")

    # When the customer does not confirm within 3 days, the agent calls and records it
    case.wait(days=3, minutes=1)
    assert case.ready() == ["record_confirmation"]
    case.complete("record_confirmation", {"solved": True, "via": "phone", "comment": "Works now"})

    # And the survey expires unanswered after 7 days
    assert case.waiting_for() == ["survey_answered"]
    case.wait(days=7, minutes=1)

    # Then the ticket closes without survey, a VIP follow-up and a QA review are due
    assert case.took("survey_expired", "close_resolved_ticket")
    assert not case.took("record_survey_answer")
    assert sorted(case.lanes().items()) == [("follow_up_customer", "agent")]
    case.complete("follow_up_customer", {"reached": True, "satisfaction": "satisfied"})
    assert case.lanes() == {"review_ticket_quality": "qa"}
    case.complete("review_ticket_quality", {"response": 5, "diagnosis": 4, "communication": 5,
                                            "documentation": 4, "overall": 5})
    assert case.status == "completed"
    assert case.notifications() == ["received", "reply", "resolved", "survey", "closed"]
    data = case.data()
    assert data["qa_sampling"]["sampled"] is True and data["qa_review"]["overall"] == 5
    assert data["knowledge_draft"]["article_id"]


def test_customer_who_is_not_satisfied_gets_the_ticket_reopened(desk: Desk) -> None:
    # Given a usage question answered at first contact (on a day QA does not sample)
    desk.clock.set(first_ticket_day(datetime(2026, 3, 2, 9, tzinfo=UTC), sampled=False, rate=0.1))
    case = desk.open_case()
    case.register(urgency="low", impact="low", fault={"category": "usage", "symptoms": [],
                                                       "description": "Which detergent should I use?"})
    case.respond(resolved=True, answer="Low-foam detergent, max line 2.")

    # When the customer says the problem is not solved
    case.confirm(False)

    # Then the ticket is reopened: the first response starts again
    assert case.ready() == ["respond_to_customer"]
    assert case.took("end_not_solved", "gw_confirmed")
    case.respond(resolved=True, answer="Use the eco program with low-foam detergent.")
    case.confirm(True).answer_survey(csat=4, nps=8)
    assert case.status == "completed"
    assert case.ticket().outcome == "resolved"


def test_contacts_about_an_open_ticket_reach_its_agents_each_time(desk: Desk) -> None:
    # Given an open ticket waiting for the first response
    case = desk.open_case()
    case.register()

    # When the customer contacts us again, twice, while it is being worked on
    case.message("customer_contact", {"channel": "chat", "fault": {"description": "Any news?"}})
    case.message("customer_contact", {"channel": "email", "fault": {"description": "It now smells burnt"}})

    # Then an agent reviews each contact, and the ticket goes on as before
    assert case.ready() == ["respond_to_customer", "review_repeat_contact", "review_repeat_contact"]
    case.complete("review_repeat_contact", {"action": "called_back", "note": "Told her a technician comes"},
                  where=lambda data: data["repeat_contact"]["channel"] == "chat")
    case.complete("review_repeat_contact", {"action": "escalated"})
    assert case.ready() == ["respond_to_customer"]
    assert case.took("repeat_contact_received", "review_repeat_contact", "end_repeat_contact")
