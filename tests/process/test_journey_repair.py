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
    assert case.waiting_for() == ["quote_response"]
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
    assert case.notifications() == ["received", "reply", "scheduled", "diagnosed", "quote", "approved", "scheduled",
                                    "repaired", "resolved", "survey", "closed"]
    assert case.took("reserve_stock", "book_used_parts", "record_survey_answer", "draft_knowledge_article",
                     "sample_for_qa", "end_closed")
    final = case.data()
    assert final["feedback_outcome"] == "closed" and final["resolution_outcome"] == "resolved"
    assert final["consumption"]["consumed"]


def test_failed_inspection_goes_back_to_the_technician(desk: Desk) -> None:
    # Given a repaired washer
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)
    case.repair()

    # When the inspection fails once
    case.inspect_repair(passed=False, findings="Pump seal leaks")

    # Then the technician repairs again, and the second inspection passes
    assert case.ready() == ["repair_device"]
    case.repair(parts_used=[], work_done="Reseated the pump seal").inspect_repair(passed=True)
    data = case.data()
    assert data["qc_failures"] == 1 and len(data["repair_passes"]) == 2
    assert case.waiting_for() == ["customer_confirmation"]


def test_repeated_inspection_failures_go_to_a_supervisor_who_replaces_the_device(desk: Desk) -> None:
    # Given a repair that fails the inspection twice
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)
    case.repair().inspect_repair(passed=False)
    case.repair(parts_used=[]).inspect_repair(passed=False)

    # Then a supervisor decides; one more attempt fails again
    assert case.lanes() == {"decide_after_failed_inspections": "supervisor"}
    case.complete("decide_after_failed_inspections", {"decision": "repair_again", "reason": "Try a new pump"})
    case.repair(parts_used=[]).inspect_repair(passed=False)
    assert case.data()["qc_failures"] == 3

    # When the supervisor decides to replace the device
    case.complete("decide_after_failed_inspections", {"decision": "replace", "reason": "Third failure"})

    # Then the customer is told it is done and asked to confirm
    assert case.notifications()[-1] == "repaired"
    assert case.data()["resolution_summary"] == "device replaced"
    assert case.waiting_for() == ["customer_confirmation"]
