"""An English reader's manual-dispatch instructions name the skill and region in words, as the Chinese do."""

from __future__ import annotations

from tests.web.conftest import manual_assignment_instructions


def test_the_manual_assignment_names_the_skill_in_words_in_english(desk, signed_in, services):
    # Given every east washer technician on leave, so the visit waits for a supervisor,
    # when an English supervisor opens the task
    instructions = manual_assignment_instructions(services, desk, signed_in, "en")
    # Then the missing skill and the region are named in words, not by their codes
    sentence = instructions.partition("(")[0]  # the handler's own message follows in brackets
    assert "washing machine" in sentence
    assert "washing_machine" not in sentence
