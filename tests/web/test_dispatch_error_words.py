"""Why nobody could be assigned reads in the supervisor's language, the skill and region in words.

The dispatch handler's business errors carry their message as a template with params
(``handlers.dispatch.said``); the manual-assignment task says it in the reader's language.
"""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import manual_assignment_instructions


@pytest.mark.parametrize(("language", "words", "codes"), [
    ("zh", ("华东没有具备“洗衣机”技能的空闲技术员", "休假至 2026-03-04"), ("washing_machine", "in region", "on leave")),
    ("en", ("no available technician with skill washing machine in region east", "is on leave until 2026-03-04"),
     ("washing_machine", "'east'")),
])
def test_the_reason_nobody_was_assigned_reads_in_the_supervisors_words(desk, signed_in, services, language, words,
                                                                        codes):
    # Given every east washer technician on leave, so the visit waits for a supervisor,
    # when the supervisor opens the task in their language
    instructions = re.sub(r"<[^>]+>", "", manual_assignment_instructions(services, desk, signed_in, language))
    # Then the handler's reason is said in words, each technician passed over with it
    for text in words:
        assert text in instructions
    for code in codes:
        assert code not in instructions
