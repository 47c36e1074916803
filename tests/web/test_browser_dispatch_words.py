"""A supervisor's manual-assignment task in Chromium, on a phone, in Chinese and English: the skill,
the region and why nobody could be assigned read in words (screenshots
``test-artifacts/screenshots/manual-assignment-{zh,en}.png``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.dispatch import Technician
from tests.web.conftest import open_tasks
from tests.web.live import PASSWORD, chromium, serving, shot


@pytest.mark.parametrize(("language", "words", "codes"), [
    ("zh", ("洗衣机", "区域 华东 没有具备 洗衣机 技能的空闲技术员：", "休假至"), ("washing_machine", "on leave")),
    ("en", ("washing machine", "is on leave until"), ("washing_machine",)),
])
def test_the_manual_assignment_reads_in_words_on_a_phone(app, desk, users, services, language, words, codes):
    # Given every east washer technician on leave, so the visit waits for a supervisor
    with services.db.transaction() as s:
        for tech in s.scalars(select(Technician).where(Technician.region == "east")):
            tech.leave = [{"from": "2026-03-01", "to": "2026-03-04"}]
    case = desk.open_case().register().respond().assist()
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "assign_technician_manually"]
    with serving(app) as base, chromium(viewport={"width": 390, "height": 844}) as context:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "supervisor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        # When the supervisor opens the task in their language on a phone
        page.goto(f"{base}/lang/{language}?next=/tasks/{task.task_id}")
        instructions = page.locator(".instructions").inner_text()
        shot(page, f"manual-assignment-{language}")
        # Then the instructions say the skill, region and reasons in words, and fit the screen
        for text in words:
            assert text in instructions
        for code in codes:
            assert code not in instructions
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
