"""Every staff page fits a 390 px phone, for every role, in Chinese and English.

One live server on the real bundle (``processes/``) and one Chromium: each role signs in at
390×844, opens its main pages and finds nothing reaching past the viewport (the document does
not scroll sideways, no part of the header sticks out) and its menu within reach. The customer
pages are checked the same way. Screenshots land in ``test-artifacts/screenshots``
(``phone-*.png``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock as engine_clock
from engine.identity import actor_for
from engine.models import WorkItem
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE
from tests.support.states import frozen_clock
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
ROLES = {
    "agent": "agent", "technician": "technician", "warehouse": "warehouse", "supervisor": "supervisor",
    "qa": "qa", "owner": "process_owner", "auditor": "auditor", "admin": "admin",
}
USERS = {user: [role] for user, role in ROLES.items()}
COMMON = ["/tasks", "/tickets?q=Li%20Na", "/tickets/{ticket}"]
PAGES = {
    "agent": [*COMMON, "/tasks?tab=group", "/tasks/{task}", "/requests/new", "/mail/"],
    "technician": COMMON,
    "warehouse": COMMON,
    "supervisor": [*COMMON, "/tasks/{task}", "/requests/new", "/dashboard/", "/dashboard/tickets",
                   "/audit/instances", "/audit/instances/{instance}", "/mail/", "/privacy/"],
    "qa": COMMON,
    "owner": ["/tasks", "/owner/definitions", "/owner/incidents", "/owner/deploy", "/owner/workbench",
              "/owner/undelivered-messages", "/owner/pilots", "/owner/whatif", "/dashboard/",
              "/audit/instances", "/audit/instances/{instance}"],
    "auditor": ["/tasks", "/audit/instances", "/audit/instances/{instance}", "/tickets/{ticket}"],
    "admin": ["/tasks", "/admin/api-keys/", "/owner/definitions", "/dashboard/", "/audit/instances"],
}
CUSTOMER_PAGES = ["/service/", "/service/request", "/service/status"]

# what sticks out sideways: the document's width, and any visible element of the header past the edge
WIDTHS = """() => ({
  scroll: document.documentElement.scrollWidth,
  header: [...document.querySelectorAll('header.top *')]
    .filter(e => { const r = e.getBoundingClientRect();
      return e.checkVisibility() && r.width > 0 && (r.right > innerWidth + 1 || r.left < -1); })
    .map(e => e.tagName + '.' + e.className),
  main: [...document.querySelectorAll('main *')]
    .filter(e => e.checkVisibility() && e.getBoundingClientRect().right > innerWidth + 1
      && !e.closest('.scroll, .djs-container, .wb-scroll, table.grid'))
    .map(e => e.tagName + '.' + e.className).slice(0, 5),
})"""


@pytest.fixture(scope="module")
def clock() -> Iterator[engine_clock.FrozenClock]:
    """One frozen clock for the module's ticket and pages: the ticket is opened on the day the pages show
    (a per-test clock would be installed only after the module's site opened it by the wall clock)."""
    yield from frozen_clock()


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template, clock):
    """The real after-sales process with its catalogue and one user per role; a registered ticket."""
    tmp_path = tmp_path_factory.mktemp("phone")
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS,
                   catalogue=PROCESSES / "data") as (base, services):
        with services.db.transaction() as s:
            instance_id = services.runtime.start(s, "after_sales", INTAKE, None, "agent").instance_id
        with services.db.transaction() as s:  # registered: the ticket has its number, the agent answers next
            task = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
            services.runtime.complete_task(s, task.task_id, actor_for(s, "agent"), INTAKE)
        with services.db.transaction(write=False) as s:
            task = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
            ticket = task.business_key
        assert ticket
        yield base, {"instance": instance_id, "ticket": ticket, "task": task.task_id}


def too_wide(page: Any, where: str) -> list[str]:
    """Say what of the page reaches past the phone's width (nothing, if all fits)."""
    widths = page.evaluate(WIDTHS)
    problems = [f"{where}: the header sticks out: {widths['header']}"] if widths["header"] else []
    if widths["scroll"] > PHONE["width"]:
        problems.append(f"{where}: {widths['scroll']} px wide, {widths['main']}")
    return problems


def open_menu(page: Any, where: str) -> list[str]:
    """Open the header's menu, check its links fit on screen, close it; return the links' texts."""
    summary = page.locator("header.top details.menu > summary")
    assert summary.is_visible(), f"{where}: no menu button"
    summary.click()
    links = page.locator("header.top details.menu nav.menu-links a")
    texts = links.all_inner_texts()
    assert texts, f"{where}: the menu is empty"
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, f"{where}: {texts[i]}"
    sign_out = "退出" if " zh " in where else "Sign out"
    assert page.locator(f"header.top details.menu button:has-text('{sign_out}')").is_visible()
    assert page.locator("header.top details.menu input[name=q]").is_visible()
    assert too_wide(page, where + " (menu open)") == []
    return texts


def test_every_role_uses_its_pages_on_a_390_px_phone_in_chinese_and_english(site):
    base, ids = site
    problems: list[str] = []
    with chromium() as context:
        browser = context.browser
        for user in ROLES:
            for lang in ("zh", "en"):
                ctx = browser.new_context(viewport=PHONE, locale="zh-CN" if lang == "zh" else "en-US",
                                          has_touch=True, is_mobile=True)
                page = ctx.new_page()
                page.set_default_timeout(15_000)
                sign_in(page, base, user)
                page.goto(f"{base}/lang/{lang}?next=/tasks")
                assert page.locator("html").get_attribute("lang").startswith(lang)
                assert page.locator("header.top nav.main").is_hidden()  # the wide row folds into the menu
                menu = open_menu(page, f"{user} {lang} /tasks")
                assert ("任务" if lang == "zh" else "Tasks") in menu
                shot(page, f"phone-{user}-{lang}-menu")
                page.locator("header.top details.menu > summary").click()
                if user == "agent":  # the tasklist's filters fold under a toggle and open on a tap
                    page.goto(f"{base}/tasks?tab=group")
                    select = page.locator("form.filters select[name=priority]")
                    assert select.is_hidden()
                    page.click("form.filters details.filter-more > summary")
                    assert select.is_visible()
                    box = select.bounding_box()
                    assert box["x"] + box["width"] <= PHONE["width"]
                for path in PAGES[user]:
                    url = path.format(**ids)
                    response = page.goto(base + url)
                    assert response.status < 400, f"{user} {url}: {response.status}"
                    if "/audit/instances/" in url:  # the trace draws its diagram after loading
                        page.wait_for_selector(".bpmn-canvas svg")
                    problems += too_wide(page, f"{user} {lang} {url}")
                    name = re.sub(r"[^a-z]+", "-", path.lower()).strip("-")
                    shot(page, f"phone-{user}-{lang}-{name}")
                ctx.close()
        # without JavaScript the menu still opens (a plain <details>) and the filters stay open
        ctx = browser.new_context(viewport=PHONE, java_script_enabled=False)
        page = ctx.new_page()
        sign_in(page, base, "supervisor")
        assert page.locator("form.filters select[name=priority]").is_visible()
        open_menu(page, "supervisor en no-js")
        page.click("header.top details.menu nav.menu-links a:has-text('Dashboard')")
        page.wait_for_url(f"{base}/dashboard/**")
        ctx.close()
        # wider screens keep the one-row header, its longest Chinese nav included, and open filters
        for width in (1360, 1024):
            ctx = browser.new_context(viewport={"width": width, "height": 800})
            page = ctx.new_page()
            for user in ("supervisor", "admin"):
                sign_in(page, base, user)
                page.goto(f"{base}/lang/zh?next=/tasks")
                assert page.locator("header.top nav.main").is_visible()
                assert page.locator("header.top details.menu").is_hidden()
                assert page.locator("form.filters select[name=priority]").is_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shot(page, f"phone-wide-{width}-{user}-zh")
                page.click("header.top > .right button")
            ctx.close()
        ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = ctx.new_page()
        for lang in ("zh", "en"):
            page.goto(f"{base}/lang/{lang}?next=/service/")
            for url in CUSTOMER_PAGES:
                page.goto(base + url)
                problems += too_wide(page, f"customer {lang} {url}")
                shot(page, f"phone-customer-{lang}-{url.strip('/').replace('/', '-')}")
        ctx.close()
    assert not problems, "\n".join(problems)
