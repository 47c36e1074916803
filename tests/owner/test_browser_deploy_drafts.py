"""Real-browser walk over the workbench page: a process owner starts drafts from a version, on a desk in
English and on a 390 px phone in Chinese."""

from __future__ import annotations

import re

import pytest

import tests.handlers_for_tests  # noqa: F401  (the simple process calls test.echo)
from tests.conftest import FIXTURES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The simple process deployed as bundle ``aftersales`` and a process owner, served on loopback."""
    with live_site(tmp_path, sqlite_template, [FIXTURES / "simple"], {"olga": ["process_owner"]}) as served:
        yield served


def test_a_draft_from_the_current_version_opens_in_the_editor(site):
    base, _services = site
    with chromium() as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        # Given the workbench, reached from the menu
        page.click("nav.main a:has-text('Workbench')")
        assert page.locator("h1").inner_text() == "Workbench"
        version = page.locator("#bundles tr.current")
        assert "current" in version.inner_text() and "simple" in version.inner_text()
        # When she starts a draft from the current version
        version.locator("button:has-text('New draft from this version')").click()
        # Then the editor opens on the draft, and the workbench lists it
        page.wait_for_url(re.compile(r".*/owner/drafts/\d+/edit$"))
        page.goto(f"{base}/owner/workbench")
        assert page.locator("#drafts tbody tr").count() == 1
        assert "aftersales v1" in page.inner_text("#drafts")
        shot(page, "owner-workbench-en")


def test_the_workbench_on_a_phone_in_chinese(site):
    base, _services = site
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, base, "olga")
        page.goto(f"{base}/owner/workbench")
        assert page.locator("h1").inner_text() == "工作台"
        page.click("button:has-text('从此版本新建草稿')")
        page.wait_for_url(re.compile(r".*/owner/drafts/\d+/edit$"))
        page.goto(f"{base}/owner/workbench")
        assert "最后保存" in page.inner_text("#drafts")
        shot(page, "owner-workbench-zh-390")
        # nothing of the page sticks out sideways: its tables scroll inside their box
        wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.scroll'))
            .map(e => e.tagName + '.' + e.className)""")
        assert wide == []
