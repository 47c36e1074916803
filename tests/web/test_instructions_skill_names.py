"""An English reader's manual-dispatch instructions name the skill and region in words, as the Chinese do."""

from __future__ import annotations

import html

from sqlalchemy import select

from handlers.dispatch import Technician
from tests.web.conftest import open_tasks


def test_the_manual_assignment_names_the_skill_in_words_in_english(desk, signed_in, services):
    # Given every east washer technician on leave, so the visit waits for a supervisor
    with services.db.transaction() as s:
        for tech in s.scalars(select(Technician).where(Technician.region == "east")):
            tech.leave = [{"from": "2026-03-01", "to": "2026-03-04"}]
    case = desk.open_case().register().respond().assist()
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "assign_technician_manually"]
    # When an English supervisor opens the task
    supervisor = signed_in("supervisor")
    supervisor.get("/lang/en?next=/tasks")
    page = html.unescape(supervisor.get(f"/tasks/{task.task_id}").get_data(as_text=True))
    # Then the missing skill and the region are named in words, not by their codes
    instructions = page[page.index('class="instructions'):page.index('class="taskform')]
    sentence = instructions.partition("(")[0]  # the handler's own message follows in brackets
    assert "washing machine" in sentence
    assert "washing_machine" not in sentence
