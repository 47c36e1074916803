"""Real-browser walk to the undelivered messages: a process owner at a desk in English, a
supervisor on a 390 px phone in Chinese."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.identity import Actor
from engine.models import WorkItem
from tests.conftest import FIXTURES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The event models, a process owner and a supervisor; a closing's warranty claim nobody took."""
    with live_site(tmp_path, sqlite_template, [FIXTURES / "events"],
                   {"olga": ["process_owner"], "sam": ["supervisor"]}) as (base, services):
        with services.db.transaction() as s:
            instance_id = services.runtime.start(s, "closing", {"serial": "SN-7", "email": "li.lei@example.com"},
                                                 "AS-20260302-00007", "agent").instance_id
        with services.db.transaction(write=False) as s:
            task_id = s.scalars(select(WorkItem.task_id).where(WorkItem.instance_id == instance_id)).one()
        with services.db.transaction() as s:
            services.runtime.complete_task(s, task_id, Actor("sam", frozenset({"supervisor"})), {})
        yield base


def test_a_process_owner_finds_the_undelivered_message_from_the_definitions(site):
    with chromium() as context:
        page = context.new_page()
        sign_in(page, site, "olga")
        page.click("nav.main a:has-text('Processes')")
        page.click("a:has-text('Undelivered messages')")
        assert page.locator("h1").inner_text() == "Undelivered messages"
        row = page.locator("#undelivered tbody tr")
        assert row.count() == 1
        text = row.inner_text()
        assert "AS-20260302-00007" in text and "warranty_claim" in text and "claim_warranty" in text
        assert "l***@example.com" in text and "li.lei" not in page.content()
        shot(page, "undelivered-owner-en")
        # the ticket link opens the sender's trail, where the message.undelivered event is
        row.locator("a").first.click()
        page.locator("#timeline-kind option[value='message.undelivered']").wait_for(state="attached")


def test_a_supervisor_reads_them_on_a_phone_in_chinese(site):
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, site, "sam")
        page.click("header.top details.menu > summary")  # on a phone the header's links are in the menu
        page.click("nav.menu-links a:has-text('审计')")
        page.click("a:has-text('未送达的消息')")
        assert page.locator("h1").inner_text() == "未送达的消息"
        assert "时间（Asia/Shanghai）" in page.locator("#undelivered thead").inner_text()
        assert "2026-03-02 17:00:00" in page.locator("#undelivered tbody").inner_text()
        # the table scrolls inside its box: nothing of the page reaches past 390 px
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate("(b => b.scrollWidth > b.clientWidth)(document.querySelector('.scroll'))")
        shot(page, "undelivered-supervisor-zh-390")
