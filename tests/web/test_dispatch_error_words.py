"""Why nobody could be assigned reads in the supervisor's language, the skill and region in words.

The dispatch handler's business errors carry their message as a template with params
(``handlers.dispatch.said``); the manual-assignment task says it in the reader's language.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from handlers.dispatch import Technician
from tests.web.conftest import open_tasks


@pytest.mark.parametrize(("language", "words", "codes"), [
    ("zh", ("华东没有具备“洗衣机”技能的空闲技术员", "休假至 2026-03-04"), ("washing_machine", "in region", "on leave")),
    ("en", ("no available technician with skill washing machine in region east", "is on leave until 2026-03-04"),
     ("washing_machine", "'east'")),
])
def test_the_reason_nobody_was_assigned_reads_in_the_supervisors_words(desk, signed_in, services, language, words,
                                                                        codes):
    # Given every east washer technician on leave, so the visit waits for a supervisor
    with services.db.transaction() as s:
        for tech in s.scalars(select(Technician).where(Technician.region == "east")):
            tech.leave = [{"from": "2026-03-01", "to": "2026-03-04"}]
    case = desk.open_case().register().respond().assist()
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "assign_technician_manually"]
    # When the supervisor opens the task in their language
    supervisor = signed_in("supervisor")
    supervisor.get(f"/lang/{language}?next=/tasks")
    page = supervisor.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    instructions = html.unescape(re.sub(r"<[^>]+>", "", page[page.index('class="instructions'):
                                                              page.index('class="taskform')]))
    # Then the handler's reason is said in words, each technician passed over with it
    for text in words:
        assert text in instructions
    for code in codes:
        assert code not in instructions
