"""The top bar shows every link whole, for every role, at 1360, 1024 and 390 px, in English and Chinese.

On wide screens the links wrap onto another line of the bar when they do not fit in one; on a
phone they fold into the "Menu". Nothing is cut off, hidden behind a scroll bar or pushed past
the window's edge. Screenshots: ``test-artifacts/screenshots/top-bar-*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
PROCESSES = Path(__file__).resolve().parents[2] / "processes"
ROLES = ("agent", "technician", "warehouse", "supervisor", "qa", "process_owner", "auditor", "admin")
#: one person holding every role: the longest top bar there is
USERS = {**{role: [role] for role in ROLES}, "everyone": list(ROLES)}
WIDTHS = (1360, 1024, 390)

# what of the bar is cut, scrolled or outside the window: links and parts that reach past an edge,
# a row that scrolls sideways, a link whose text is wider than its box
CUT = """() => {
  const out = [], inside = (r) => r.left >= -1 && r.right <= innerWidth + 1;
  for (const e of document.querySelectorAll('header.top > *, header.top nav a, header.top .right > *')) {
    if (!e.checkVisibility()) continue;
    const r = e.getBoundingClientRect(), name = (e.textContent || e.className).trim().slice(0, 30);
    if (r.width > 0 && !inside(r)) out.push('outside the window: ' + name);
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      out.push('scrolls sideways: ' + name);
    if (e.tagName === 'A' && e.scrollWidth > e.clientWidth + 1) out.push('text cut: ' + name);
    const nav = e.closest('nav');
    if (nav && e.tagName === 'A') {
      const n = nav.getBoundingClientRect();
      if (r.right > n.right + 1 || r.bottom > n.bottom + 1 || r.left < n.left - 1)
        out.push('outside its row: ' + name);
    }
  }
  if (document.documentElement.scrollWidth > innerWidth) out.push('page ' + document.documentElement.scrollWidth);
  return out;
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template):
    """The real bundle and one user per staff role, plus one holding them all."""
    with live_site(tmp_path_factory.mktemp("top-bar"), sqlite_template, [PROCESSES], USERS) as (base, _):
        yield base


def links(page: Any, where: str) -> list[str]:
    """Return the texts of the bar's links where the bar shows them: its row, else the opened menu."""
    if page.locator("header.top nav.main").is_visible():
        return page.locator("header.top nav.main a").all_inner_texts()
    page.locator("header.top details.menu > summary").click()
    texts = page.locator("header.top details.menu nav.menu-links a").all_inner_texts()
    assert texts, f"{where}: the menu is empty"
    return texts


def test_every_roles_top_bar_shows_each_link_whole_at_1360_1024_and_390_px(site) -> None:
    """Given each role (and one person with all of them) in English and in Chinese, at each width,
    the top bar's links, search and account are all inside the window, none is cut, none scrolls."""
    problems = []
    with chromium() as context:
        page = context.new_page()
        for user in [*ROLES, "everyone"]:
            sign_in(page, site, user)
            for lang in ("en", "zh"):
                page.goto(f"{site}/lang/{lang}?next=/tasks")
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 800})
                    page.reload()
                    where = f"{user} {lang} {width}px"
                    texts = links(page, where)
                    assert ("任务" if lang == "zh" else "Tasks") in texts, where
                    problems += [f"{where}: {p}" for p in page.evaluate(CUT)]
                    if user in ("supervisor", "everyone", "admin"):
                        shot(page, f"top-bar-{user}-{lang}-{width}")
            context.clear_cookies()  # the next user signs in afresh
    assert problems == [], "\n".join(problems)


def test_a_lane_only_roles_top_bar_offers_its_tasks_and_no_ticket_pages(tmp_path, sqlite_template) -> None:
    """Given a user whose only role a process lane created (field_partner), in English and Chinese,
    wide and on a phone, the bar offers Tasks and no Tickets link or ticket search (pages that answer 403)."""
    partner_bundle = Path(__file__).parent / "fixtures" / "field_partner"
    with live_site(tmp_path, sqlite_template, [partner_bundle], {"partner": ["field_partner"]}) as (base, _), \
            chromium() as context:
        page = context.new_page()
        sign_in(page, base, "partner")
        for lang, tasks in (("en", "Tasks"), ("zh", "任务")):
            page.goto(f"{base}/lang/{lang}?next=/tasks")
            for width in (1360, 390):
                page.set_viewport_size({"width": width, "height": 800})
                page.reload()
                assert links(page, f"partner {lang} {width}px") == [tasks]
                assert page.locator("header.top input[name=q]").count() == 0
                shot(page, f"top-bar-lane-role-{lang}-{width}")
