"""The ticket page carries what people wrote in the ticket's tasks, so QA can read the whole record."""

from __future__ import annotations

import html

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
    notes = page[page.index('class="note"'):]
    for written in ("We will look at the washer for you.", "Drain filter clean, still E21", "Drain pump jammed",
                    "Loyal customer, the pump failed early"):
        assert written in notes, written
    assert "ann · Propose a solution" in notes and "tom · Inspect the device on site" in notes
