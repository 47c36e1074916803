"""A dispatch's Chinese reason says in Chinese why the others were passed over, as its English one does in English."""

from __future__ import annotations

import re

import babel.messages.pofile as pofile

from handlers.dispatch import PASSED_OVER_ZH, Provider
from tests.conftest import PROCESSES

ENGLISH_WORDS = re.compile(r"\b(is|on|leave|until|has|no|free|window|next|days|qualification|expired|starts)\b")


def test_the_chinese_reason_names_a_technician_on_leave_in_chinese(call):
    # Given tech.qian, an east washer technician, on leave until 2026-03-08
    result = call("dispatch.assign_technician", task="assign", ticket_number="AS-20260302-00001",
                  skill="washing_machine", region="east", priority="medium")
    # Then the English reason says so in English and the Chinese one in Chinese
    assert "passed over: tech.qian is on leave until 2026-03-08" in result["reason"]
    assert result["reason_zh"].endswith("；未选：tech.qian 休假至 2026-03-08")
    assert not ENGLISH_WORDS.search(result["reason_zh"]), result["reason_zh"]


def test_the_chinese_reason_names_a_provider_whose_qualification_expired_in_chinese(call, database):
    # Given PRV-LN (qualified until 2025-12-31) repairs TVs in the south too, beside the qualified PRV-CW
    with database.transaction() as session:
        lingnan = session.get(Provider, "PRV-LN")
        lingnan.skills = [*lingnan.skills, "tv"]
    result = call("dispatch.choose_provider", task="p", ticket_number="AS-1", skill="tv", region="south")
    # Then PRV-CW gets the job, and the Chinese reason says why PRV-LN did not, in Chinese
    assert result["provider_id"] == "PRV-CW"
    assert "not qualified: PRV-LN qualification expired 2025-12-31" in result["reason"]
    assert result["reason_zh"].endswith("；资质不符：PRV-LN 的资质已于 2025-12-31 到期")
    assert not ENGLISH_WORDS.search(result["reason_zh"]), result["reason_zh"]


def test_the_passed_over_words_are_the_pages_words():
    catalogue_file = PROCESSES.parent / "web" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with catalogue_file.open(encoding="utf-8") as po:
        catalogue = pofile.read_po(po)
    assert {english: catalogue.get(english).string for english in PASSED_OVER_ZH} == PASSED_OVER_ZH
