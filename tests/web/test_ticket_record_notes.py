"""The ticket page carries what people wrote in the ticket's tasks, so QA can read the whole record."""

from __future__ import annotations

import html
import re

from tests.process.driver import PUMP


def test_the_ticket_page_shows_every_free_text_answer_written_in_its_tasks_with_who_wrote_it(desk, signed_in):
    # Given a repair whose agent answered, tried remote help, and proposed goodwill after the inspection
    case = desk.open_case().register(product={"purchase_date": "2021-05-01"})
    case.respond(answer="We will look at the washer for you.")
    case.assist(finding="Drain filter clean, still E21")
    case.inspect_on_site(PUMP)
    case.propose(goodwill=True, concession_kind="share", concession_value=50,
                 justification="Loyal customer, the pump failed early")
    # When QA opens the ticket
    page = html.unescape(signed_in("qa").get(f"/tickets/{case.ticket_number}").get_data(as_text=True))
    # Then the answer, the finding, the technician's cause and the justification are there, each with its author
    notes = re.sub(r"<[^>]+>", "", page[page.index('class="note"'):])  # the words, as read
    for written in ("We will look at the washer for you.", "Drain filter clean, still E21", "Drain pump jammed",
                    "Loyal customer, the pump failed early"):
        assert written in notes, written
    assert "ann · Propose a solution" in notes and "tom · Inspect the device on site" in notes


def test_a_coded_answer_is_not_a_note(desk, signed_in):
    # Given a usage question answered at once and followed up with a satisfied customer
    case = desk.open_case(channel="chat").register(
        customer={"tier": "vip"}, urgency="low", impact="low",
        fault={"category": "usage", "description": "How do I clean the drum?", "symptoms": []})
    case.respond(resolved=True, answer="Run the drum clean programme.").confirm(True).answer_survey()
    case.complete("follow_up_customer", {"reached": True, "satisfaction": "satisfied"})
    # When staff open the ticket, the agent's answer is a note and the satisfaction code is not
    page = html.unescape(signed_in("qa").get(f"/tickets/{case.ticket_number}").get_data(as_text=True))
    notes = [re.sub(r"<[^>]+>", "", n) for n in re.findall(r'<p class="prewrap"[^>]*>(.*?)</p>', page, re.S)]
    assert "Run the drum clean programme." in notes
    assert "satisfied" not in notes
