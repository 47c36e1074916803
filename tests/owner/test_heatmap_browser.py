"""The owner's heatmap of the real after-sales process after a short history, in a real browser (zh, en):
at the default zoom every badge is clear of the element names, of other elements and of other badges,
and big enough to read; pointing at an element shows all its figures. Its instance count is the process's,
as the definitions page says (a root-cause analysis of the same bundle is not counted).
Screenshots: ``test-artifacts/screenshots/heatmap-*.png``.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.models import Instance
from engine.pilots import find_definition
from simulation.history import simulate_history
from tests.conftest import PROCESSES
from tests.web.live import SCREENSHOTS, chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
RCA = {"ticket_number": "AS-X", "resolution_hours": 60.0, "target_hours": 48.0, "paused_hours": 2.0,
       "channel": "hotline", "priority": "high", "product_line": "washing_machine",
       "opened_at": "2026-03-02T09:00:00+00:00", "resolved_at": "2026-03-04T09:00:00+00:00", "bottlenecks": []}
BOXES = """(canvas) => {
  const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const seen = r => r.width > 0 && r.height > 0;
  const badges = [...document.querySelectorAll(canvas + ' .heat-badge')].map(b => b.getBoundingClientRect())
    .filter(seen).map(box);
  const texts = [...document.querySelectorAll(canvas + ' .djs-element text')].map(t => t.getBoundingClientRect())
    .filter(seen).map(box);
  return {badges, texts};
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template):
    """processes/ with its catalogue, 20 simulated requests over five days and one root-cause analysis."""
    from engine import clock as engine_clock
    from tests.support.states import frozen_clock

    clocks = frozen_clock()
    clock: engine_clock.FrozenClock = next(clocks)
    with live_site(tmp_path_factory.mktemp("heatmap"), sqlite_template, [PROCESSES], {"olga": ["process_owner"]},
                   catalogue=PROCESSES / "data") as (base, services):
        simulate_history(services.db, services.runtime, tickets=20, days=5, seed=7, start=date(2026, 2, 23))
        with services.db.transaction() as s:
            services.runtime.start(s, "root_cause_analysis", RCA, None, "system")
        with services.db.transaction(write=False) as s:
            deployment_id = find_definition(s, "after_sales").deployment_id
            counts = dict(s.execute(select(Instance.process_id, func.count()).group_by(Instance.process_id)).all())
        yield base, deployment_id, counts
    next(clocks, None)
    assert clock is not None


def assert_badges_clear(page, canvas: str, least: float) -> None:
    """Assert the canvas shows ``least`` badges or more, each at least 12 px high (10 px text), none of
    them over a name or another badge."""
    found = page.evaluate(BOXES, canvas)
    badges, texts = found["badges"], found["texts"]
    assert len(badges) >= least, (len(badges), least)
    assert all(b["bottom"] - b["top"] >= 12 for b in badges)
    for i, badge in enumerate(badges):
        assert not any(overlapping(badge, text) for text in texts), badge
        assert not any(overlapping(badge, other) for other in badges[i + 1:]), badge


def overlapping(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] - 1 and b["left"] < a["right"] - 1 and a["top"] < b["bottom"] - 1 \
        and b["top"] < a["bottom"] - 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_heatmap_counts_the_process_shown_like_the_definitions_page(site, lang) -> None:
    base, deployment_id, counts = site
    assert counts["root_cause_analysis"] >= 1 and counts["after_sales"] >= 15
    with chromium(locale="zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        page.goto(f"{base}/lang/{lang}?next=/owner/definitions")
        row = page.locator(f"tr:has(a[href='/owner/heatmap/{deployment_id}/after_sales'])")
        listed = int(row.locator("td.num").first.inner_text())
        page.goto(f"{base}/owner/heatmap/{deployment_id}/after_sales")
        meta = page.inner_text("p.meta")
        said = int(re.search(r"(\d+)", meta).group(1))
        assert said == listed == counts["after_sales"], meta


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_heatmap_badges_are_readable_and_clear_of_names_and_each_other_at_the_default_zoom(site, lang) -> None:
    base, deployment_id, _ = site
    with chromium(locale="zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        page.goto(f"{base}/lang/{lang}?next=/owner/heatmap/{deployment_id}/after_sales")
        page.wait_for_selector("#heatmap[data-ready=true][data-placed]")
        page.wait_for_timeout(400)  # the placing again after the fit to the viewport
        figures = len(json.loads(page.locator("#heatmap-data").text_content())["elements"])
        # Then most elements with figures show a badge, readable, clear of every name and other badge
        assert_badges_clear(page, "#heatmap", 0.7 * figures)
        shot(page, f"heatmap-{lang}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        canvas = page.locator("#heatmap").bounding_box()
        page.screenshot(path=str(SCREENSHOTS / f"heatmap-{lang}-crop.png"),
                        clip={"x": canvas["x"], "y": canvas["y"], "width": canvas["width"] / 2,
                              "height": canvas["height"] / 2})
        # and coloured by p90 waiting time, the badges say those times, as clear
        placed = page.get_attribute("#heatmap", "data-placed")
        page.select_option("#heat-measure", "waiting_p90")
        page.wait_for_function("n => document.getElementById('heatmap').dataset.placed !== n", arg=placed)
        assert_badges_clear(page, "#heatmap", 5)
        assert any(re.fullmatch(r"[\d.]+ (小时|分钟|秒|h|min|s)", b) for b in
                   page.locator("#heatmap .heat-badge").all_inner_texts())
        page.select_option("#heat-measure", "executions")
        # When the owner points at the registration task, all its figures are shown
        page.locator("#heatmap [data-element-id=register_request]").first.hover()
        page.wait_for_selector("#heat-detail[data-element=register_request]:not([hidden])")
        assert int(page.inner_text("#heat-detail [data-k=executions]")) >= 15
        assert page.locator("#heat-table tr.current[data-element=register_request]").count() == 1
        # and clicking it keeps them there while the pointer moves on
        page.locator("#heatmap [data-element-id=register_request]").first.click()
        page.mouse.move(5, 5)
        page.locator("#heat-detail").screenshot(path=str(SCREENSHOTS / f"heatmap-{lang}-detail.png"))
        assert page.get_attribute("#heat-detail", "data-element") == "register_request"


def test_what_if_heatmaps_have_the_same_clear_badges(site, tmp_path) -> None:
    base, deployment_id, _ = site
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        page.goto(f"{base}/lang/zh?next=/owner/whatif")
        # Given a what-if of a draft of the deployed version against it, run from the page
        started = page.evaluate("""async (dep) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const post = (url, body) => fetch(url, {method: 'POST', body: JSON.stringify(body), headers: {
                'X-CSRFToken': token, 'Content-Type': 'application/json', Accept: 'application/json'}})
              .then(r => r.json());
            const draft = await post('/owner/api/drafts', {name: 'same', from_deployment_id: dep});
            const job = await post(`/owner/api/drafts/${draft.id}/whatif`, {tickets: 4, seed: 2, days: 2});
            return {draft: draft.id, job: job.job_id};
        }""", deployment_id)
        page.goto(f"{base}/owner/drafts/{started['draft']}/whatif?against={deployment_id}&job={started['job']}")
        # Then, once it is done, both sides' heatmaps have readable badges clear of the names and each other
        page.wait_for_selector("#heat-tried[data-placed]", timeout=300_000)
        page.wait_for_selector("#heat-deployed[data-placed]")
        page.wait_for_timeout(400)
        for side in ("#heat-tried", "#heat-deployed"):
            assert_badges_clear(page, side, 5)
        page.locator(".whatif-heatmaps").screenshot(path=str(SCREENSHOTS / "heatmap-whatif-zh.png"))
