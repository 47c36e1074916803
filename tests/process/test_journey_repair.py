"""Scenario: a broken washer, diagnosed on site, quoted, repaired by a field technician."""

from __future__ import annotations

from tests.process.driver import Desk


def test_field_repair_runs_from_intake_to_closure(desk: Desk) -> None:
    # Given a customer calling the hotline about a washer that does not drain
    case = desk.open_case()
    assert case.ready() == ["register_request"]

    # When the agent registers it, a ticket is opened and acknowledged
    case.register()
    assert case.ticket_number.startswith("AS-20260302-")
    assert case.notifications() == ["received"]
    data = case.data()
    assert (data["priority"], data["sla_response"], data["sla_resolution"]) == ("high", "PT4H", "PT24H")
    assert data["entitlement"]["coverage"] == "full"

    # And the first response, remote help and on-site inspection do not fix it
    case.diagnose()
    assert case.notifications()[-2:] == ["scheduled", "diagnosed"]

    # When the agent proposes a field repair within authority, the quote goes to the customer
    case.propose()
    assert case.waiting_for() == ["customer_cancel", "quote_response"]
    assert case.data()["approver"] == "agent"
    assert case.notifications()[-1] == "quote"

    # And the customer accepts: parts are reserved, a technician scheduled
    case.answer_quote(True)
    assert case.ready() == ["repair_device"]
    assert case.lanes() == {"repair_device": "technician"}

    # When the technician repairs and the inspection passes
    case.repair().inspect_repair(passed=True)
    assert case.notifications()[-1] == "repaired"

    # And the customer confirms and answers the survey
    case.confirm(True).answer_survey(csat=5, nps=9)

    # Then the ticket is closed as resolved, with feedback and a knowledge draft
    assert case.status == "completed"
    assert case.ticket().status == "closed" and case.ticket().outcome == "resolved"
    assert case.notifications() == ["received", "scheduled", "diagnosed", "quote", "approved", "scheduled",
                                    "repaired", "resolved", "survey", "closed"]
    assert case.took("reserve_stock", "book_used_parts", "record_survey_answer", "draft_knowledge_article",
                     "sample_for_qa", "end_closed")
    final = case.data()
    assert final["feedback_outcome"] == "closed" and final["resolution_outcome"] == "resolved"
    assert final["consumption"]["consumed"]
