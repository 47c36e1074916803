"""Why nobody could be assigned reads in the supervisor's language, the skill and region in words.

The dispatch handler's business errors carry their message as a template with params
(``handlers.dispatch.said``); the manual-assignment task says it in the reader's language.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.web.conftest import complete, manual_assignment_instructions, open_tasks


@pytest.mark.parametrize(("language", "words", "codes", "once"), [
    ("zh", ("区域 华东 没有具备 洗衣机 技能的空闲技术员：", "休假至 2026-03-04"),
     ("washing_machine", "in region", "on leave"), "没有具备"),
    ("en", ("No technician with skill washing machine is available in region east: ", "is on leave until 2026-03-04"),
     ("washing_machine", "'east'"), "technician with skill"),
])
def test_the_reason_nobody_was_assigned_reads_in_the_supervisors_words(desk, signed_in, services, language, words,
                                                                        codes, once):
    # Given every east washer technician on leave, so the visit waits for a supervisor,
    # when the supervisor opens the task in their language
    instructions = re.sub(r"<[^>]+>", "", manual_assignment_instructions(services, desk, signed_in, language))
    # Then the handler's reason is said in words, each technician passed over with it
    for text in words:
        assert text in instructions
    for code in codes:
        assert code not in instructions
    # and that nobody could be assigned is said once, not again in brackets
    assert instructions.lower().count(once) == 1, instructions


@pytest.mark.parametrize(("language", "refusal"), [
    ("zh", "（上门安排未记录：技术员：tech.wang 在 2026-03-03 休假"),
    ("en", "(the visit was not recorded: Technician: tech.wang is on leave"),
])
def test_a_refused_visit_says_why_after_the_sentence_in_brackets(desk, signed_in, services, language, refusal):
    # Given the supervisor's manual assignment (every east washer technician on leave until 4 March)
    manual_assignment_instructions(services, desk, signed_in, language)
    [task] = [t for t in open_tasks(services) if t.element_id == "assign_technician_manually"]
    # When the supervisor books tech.wang on 3 March, while he is on leave
    complete(services, task.task_id, "supervisor", ("supervisor",), {
        "technician": "tech.wang", "name": "Wang Lei", "reason": "Knows washers",
        "appointment": {"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T11:00:00+08:00"}})
    # Then the task is back, and its instructions say why the visit was refused, in brackets, once
    [again] = [t for t in open_tasks(services) if t.element_id == "assign_technician_manually"]
    page = html.unescape(signed_in("supervisor").get(f"/tasks/{again.task_id}").get_data(as_text=True))
    instructions = re.sub(r"<[^>]+>", "", page[page.index('class="instructions'):page.index('class="taskform')])
    assert refusal in instructions
    assert instructions.count(refusal) == 1
