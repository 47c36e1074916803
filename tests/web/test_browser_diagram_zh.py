"""The BPMN diagrams speak the reader's language, in a real browser on the real bundle.

On a Chinese page the trace of a ticket and the owner's heatmap draw element and lane
names from the bundle's ``translations.zh.json``; on an English page the deployed names.
The diagram file served for download stays byte for byte the deployed one. Screenshots:
``test-artifacts/screenshots/diagram-zh-*.png``.
"""

from __future__ import annotations

import json

import pytest

from engine.identity import actor_for
from engine.models import DeploymentFile, Instance, WorkItem
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
USERS = {"owner": ["process_owner", "supervisor", "auditor"]}
ENGLISH = "Register the request"
ZH = json.loads((PROCESSES / "translations.zh.json").read_text(encoding="utf-8"))
CHINESE = ZH[ENGLISH]


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The real after-sales process, one ticket registered (its acknowledgement waiting to be sent)."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=PROCESSES / "data") as (base, services):
        with services.db.transaction() as s:
            instance_id = services.runtime.start(s, "after_sales", INTAKE, None, "owner").instance_id
        with services.db.transaction() as s:
            task = s.query(WorkItem).filter_by(instance_id=instance_id, element_id="register_request").one()
            services.runtime.complete_task(s, task.task_id, actor_for(s, "owner"), INTAKE)
        with services.db.transaction() as s:
            deployment_id = s.get(Instance, instance_id).deployment_id
            deployed = {f.path: f.content for f in s.query(DeploymentFile).filter_by(deployment_id=deployment_id)}
        yield base, instance_id, deployment_id, deployed


def diagram_text(page, box: str) -> str:
    """Wait until the diagram in ``box`` is drawn; return the text of its SVG."""
    page.wait_for_selector(f"{box}[data-ready=true]")
    return page.locator(f"{box} svg").first.text_content()


def lane_name(page, canvas: str, lane_id: str) -> str:
    """Return the name drawn on a lane of the diagram."""
    return page.locator(f"{canvas} [data-element-id={lane_id}] text").first.text_content()


def close_up(page, canvas: str, element_id: str, name: str) -> None:
    """Zoom the diagram in around one element (ctrl + wheel) and screenshot the canvas."""
    page.locator(f"{canvas} [data-element-id={element_id}]").first.hover()
    page.keyboard.down("Control")
    for _ in range(6):
        page.mouse.wheel(0, -120)
    page.keyboard.up("Control")
    page.locator(canvas).screenshot(path=str(shot(page, name)))


@pytest.mark.parametrize(("locale", "shown", "hidden"), [("zh-CN", CHINESE, ENGLISH), ("en-US", ENGLISH, CHINESE)])
def test_trace_and_heatmap_draw_element_names_in_the_readers_language(site, locale, shown, hidden):
    base, instance_id, deployment_id, deployed = site
    lang = locale[:2]
    with chromium(locale=locale) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1360, "height": 900})
        sign_in(page, base, "owner")

        pages = {"trace": (f"/audit/instances/{instance_id}", "#trace", "#canvas"),
                 "heatmap": (f"/owner/heatmap/{deployment_id}/after_sales", "#heatmap", "#heatmap")}
        for name, (url, box, canvas) in pages.items():
            page.goto(base + url)
            text = diagram_text(page, box)
            assert shown in text and hidden not in text, name
            assert lane_name(page, canvas, "lane_main_agent") == ("Agent" if lang == "en" else ZH["Agent"]), name
            shot(page, f"diagram-{lang}-{name}")
            close_up(page, canvas, "register_request", f"diagram-{lang}-{name}-close-up")

        # the heatmap's table names the elements the same way
        assert shown in page.locator("#heat-table tr[data-element=register_request]").inner_text()

        # the file the diagram came from is still the deployed one, byte for byte
        path = page.locator("#heatmap").get_attribute("data-diagram-url")
        served = page.request.get(f"{base}{path}?download=1").body()
        assert served in deployed.values() and ENGLISH.encode() in served

        # and so does the trace's line of current tokens
        page.goto(f"{base}/audit/instances/{instance_id}")
        page.wait_for_selector("#trace[data-ready=true]")
        respond = "Respond to the customer"
        assert (respond if lang == "en" else ZH[respond]) in page.locator("#trace-status").inner_text()

        # the ticket page says how its notifications stand in the reader's language
        page.goto(f"{base}/tickets/{instance_id}")
        heading = "Notifications sent" if lang == "en" else "已发送通知"
        status = page.locator(f"section.panel:has(h3:text-is('{heading}')) tbody td:last-child").first
        assert status.inner_text() == ("pending" if lang == "en" else "待发送")

        # the what-if page's heatmaps get the deployed version's words too
        page.goto(f"{base}/owner/whatif?against={deployment_id}")
        words = json.loads(page.locator("#diagram-texts").text_content())
        assert words.get(ENGLISH) == (None if lang == "en" else CHINESE)
