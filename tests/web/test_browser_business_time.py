"""Times the browser draws read in the business time zone, whatever zone the browser is in.

The auditor's element panel on the trace page and the owner's editor save stamp are drawn by
JavaScript; they say a moment as the server's pages do (``web/rendering.py``, ``when``): in
Asia/Shanghai with its label, 北京时间 on Chinese pages and CST on English ones. The browsers
here run in New York and in UTC. Screenshots: ``test-artifacts/screenshots/business-time-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.web.live import SCREENSHOTS, chromium, shot, sign_in
from tests.web.test_browser_diagram_zh import site  # noqa: F401  (the real process, one ticket registered)

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")
LABELS = {"zh": "北京时间", "en": "CST"}
BROWSERS = [("zh", "America/New_York"), ("en", "America/New_York"), ("zh", "UTC"), ("en", "UTC")]


def in_shanghai(iso: str, lang: str, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Say an ISO moment as the server's pages do: Shanghai time and the page language's zone label."""
    moment = datetime.fromisoformat(iso)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(SHANGHAI).strftime(pattern)} {LABELS[lang]}"


@contextmanager
def owner_browser(base: str, lang: str, browser_zone: str) -> Iterator[Any]:
    """Yield a page of a browser in ``browser_zone`` with the owner signed in."""
    with chromium(locale="zh-CN" if lang == "zh" else "en-US", timezone_id=browser_zone) as context:
        page = context.new_page()
        sign_in(page, base, "owner")
        yield page


def open_in(page, base: str, lang: str, path: str) -> None:
    page.goto(f"{base}/lang/{lang}?next={path}")


def clip_of(page, selector: str, name: str) -> None:
    """Screenshot just the box of ``selector`` (the detail to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), clip=page.locator(selector).first.bounding_box())


@pytest.mark.parametrize(("lang", "browser_zone"), BROWSERS)
def test_trace_element_panel_says_times_in_beijing_time_in_any_browser_zone(site, lang, browser_zone):  # noqa: F811
    base, instance_id, _, _ = site
    with owner_browser(base, lang, browser_zone) as page:
        # Given the trace of a ticket whose request was registered
        open_in(page, base, lang, f"/audit/instances/{instance_id}")
        page.wait_for_selector("#trace[data-ready=true]")
        assert page.get_attribute("body", "data-time-zone") == "Asia/Shanghai"
        # When the auditor clicks the registration step
        page.locator("#canvas [data-element-id=register_request]").first.click()
        page.wait_for_selector("#element-panel table tbody tr")
        # Then its arrival and completion read in Beijing time with the zone's label, as the server says them
        run = page.request.get(f"{base}/audit/instances/{instance_id}/elements/register_request.json").json()["runs"][0]
        cells = page.locator("#element-panel table tbody tr").first.locator("td")
        assert cells.nth(0).inner_text() == in_shanghai(run["reached_at"], lang)
        assert cells.nth(1).inner_text() == in_shanghai(run["completed_at"], lang)
        # and as the page's own timeline (drawn by the server) says the same moment
        assert in_shanghai(run["completed_at"], lang) in page.inner_text("#timeline")
        shot(page, f"business-time-{lang}-{browser_zone.replace('/', '-')}-trace")
        clip_of(page, "#element-panel", f"business-time-{lang}-{browser_zone.replace('/', '-')}-trace-panel")


@pytest.mark.parametrize(("lang", "browser_zone"), BROWSERS)
def test_editor_save_stamp_says_beijing_time_like_the_workbench_list(site, lang, browser_zone):  # noqa: F811
    base = site[0]
    with owner_browser(base, lang, browser_zone) as page:
        # Given a draft opened from the deployed version
        open_in(page, base, lang, "/owner/workbench")
        page.click("form:has(input[name=from_deployment_id][value='1']) button[type=submit]")
        page.wait_for_url(re.compile(r".*/owner/drafts/\d+/edit.*"))
        draft_id = int(re.search(r"/owner/drafts/(\d+)/edit", page.url).group(1))
        page.wait_for_selector("body[data-workbench=ready]", timeout=30_000)
        # Then the editor's status says when it was saved in Beijing time with the zone's label
        draft = page.request.get(f"{base}/owner/api/drafts/{draft_id}").json()
        stamp = in_shanghai(draft["updated_at"], lang)
        status = page.inner_text("#wb-status")
        assert status == (f"owner 于 {stamp} 保存" if lang == "zh" else f"Saved {stamp} by owner")
        clip_of(page, "#wb-status", f"business-time-{lang}-{browser_zone.replace('/', '-')}-editor-status")
        # And the workbench's list (drawn by the server) says the same minute with the same label
        open_in(page, base, lang, "/owner/workbench")
        assert in_shanghai(draft["updated_at"], lang, "%Y-%m-%d %H:%M") in page.inner_text("main")
        shot(page, f"business-time-{lang}-{browser_zone.replace('/', '-')}-workbench")
