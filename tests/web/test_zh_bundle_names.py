"""The bundle's own names (process, stage, task and end-event names) read in the reader's language.

The owner's definitions headings, the audit instance list's process, stage and "now at"
columns and the what-if's tickets-per-route table take their words from the deployment's
``translations.zh.json`` on a Chinese page, and stay English on an English one. The owner's
heatmap page and its script's badges read in Chinese too (Chromium, 390 px; screenshots
``test-artifacts/screenshots/heatmap-*.png``).
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from engine.bundle import read_bundle
from engine.deploy import deploy
from engine.models import Instance
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE
from tests.web.live import chromium, live_site, shot, sign_in

ZH = json.loads((PROCESSES / "translations.zh.json").read_text(encoding="utf-8"))


@pytest.fixture
def ticket(services) -> dict:
    """processes/ deployed and one after-sales ticket started; its deployment, stage and current task."""
    with services.db.transaction() as s:
        deployment_id = deploy(s, read_bundle([PROCESSES], name="aftersales"), "owner").deployment_id
    with services.db.transaction() as s:
        started = services.runtime.start(s, "after_sales", INTAKE, None, "owner")
    with services.db.transaction() as s:
        summary = s.scalars(select(Instance.summary).where(Instance.id == started.instance_id)).one()
    assert summary["stage"] in ZH and summary["current"][0] in ZH
    return {"deployment_id": deployment_id, "stage": summary["stage"], "current": summary["current"][0]}


def reader(signed_in, role: str, language: str):
    client = signed_in(role)
    client.get(f"/lang/{language}")
    return client


def test_definitions_headings_name_the_process_in_the_readers_language(signed_in, ticket):
    zh = reader(signed_in, "process_owner", "zh").get("/owner/definitions").get_data(as_text=True)
    assert "<h2>售后服务 " in zh and "<h2>After-sales service " not in zh
    en = reader(signed_in, "process_owner", "en").get("/owner/definitions").get_data(as_text=True)
    assert "<h2>After-sales service " in en and "售后服务" not in en


def test_the_instance_list_shows_process_stage_and_current_task_in_the_readers_language(signed_in, ticket):
    zh = reader(signed_in, "auditor", "zh").get("/audit/instances").get_data(as_text=True)
    row = zh.split('<tr data-instance="', 1)[1].split("</tr>", 1)[0]
    assert '售后服务 <small class="muted" translate="no">after_sales</small>' in row
    assert f"<td>{ZH[ticket['stage']]}</td>" in row and f"<td>{ZH[ticket['current']]}</td>" in row
    assert ticket["stage"] not in row and ticket["current"] not in row
    assert f">{ZH[ticket['stage']]}</option>" in zh  # the stage filter names it the same way

    en = reader(signed_in, "auditor", "en").get("/audit/instances").get_data(as_text=True)
    row = en.split('<tr data-instance="', 1)[1].split("</tr>", 1)[0]
    assert 'After-sales service <small class="muted" translate="no">after_sales</small>' in row
    assert f"<td>{ticket['stage']}</td>" in row and f"<td>{ticket['current']}</td>" in row


def test_the_what_if_routes_are_named_by_their_end_event_in_the_readers_language(signed_in, ticket, app, tmp_path):
    app.config["WHATIF_DIR"] = str(tmp_path / "whatif")
    owner = reader(signed_in, "process_owner", "zh")
    dep = ticket["deployment_id"]
    owner.get("/owner/whatif")  # the form's CSRF token
    headers = {"X-CSRFToken": owner.token, "Accept": "application/json"}
    # a draft of the deployed version against it (a deployment is not compared with itself)
    draft = owner.client.post("/owner/api/drafts", json={"name": "same", "from_deployment_id": dep}, headers=headers)
    started = owner.client.post(f"/owner/api/drafts/{draft.get_json()['id']}/whatif",
                                json={"tickets": 4, "seed": 2, "days": 2}, headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    job_id = started.get_json()["job_id"]
    deadline = time.monotonic() + 600  # a limit on waiting, not a measurement
    while time.monotonic() < deadline:
        status = owner.client.get(f"/owner/api/whatif/{job_id}").get_json()
        if status["state"] != "running":
            break
        time.sleep(0.2)
    assert status["state"] == "done", status
    routes = set(status["result"]["tried"]["routes"]) | set(status["result"]["deployed"]["routes"])
    assert routes, "the what-if ended no ticket"

    url = f"/owner/drafts/{draft.get_json()['id']}/whatif?against={dep}&job={job_id}"
    zh = owner.get(url).get_data(as_text=True)
    table = zh.split('id="whatif-routes"', 1)[1].split("</table>", 1)[0]
    en = reader(signed_in, "process_owner", "en").get(url).get_data(as_text=True)
    english = en.split('id="whatif-routes"', 1)[1].split("</table>", 1)[0]
    names = {f"{p}/{e['element_id']}": e["name"] for p, h in status["result"]["deployed"]["heatmaps"].items()
             for e in h["elements"]}
    for route in routes:
        name = names[route]
        assert f'{ZH[name]} <code class="muted" title="结束事件">{route}</code>' in table
        assert f'{name} <code class="muted" title="End event">{route}</code>' in english


@pytest.fixture(scope="module")
def live(tmp_path_factory, sqlite_template):
    """The real after-sales process served to Chromium, one ticket started (the heatmap tests only read it)."""
    with live_site(tmp_path_factory.mktemp("heatmap"), sqlite_template, [PROCESSES], {"owner": ["process_owner"]},
                   catalogue=PROCESSES / "data") as (base, services):
        with services.db.transaction() as s:
            instance_id = services.runtime.start(s, "after_sales", INTAKE, None, "owner").instance_id
        with services.db.transaction() as s:
            yield base, s.get(Instance, instance_id).deployment_id


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "shown", "hidden"), [
    ("zh-CN", ["此版本 1 个实例", "着色依据", "按元素", "执行次数", "平均等待", "低 → 高", "执行最多的元素"],
     ["instance of this version", "Per element", "Executions", "Waiting avg", "busiest", "low → high"]),
    ("en-US", ["1 instance of this version", "Per element", "Executions", "Waiting avg", "the busiest element has"],
     ["此版本", "按元素", "执行次数"])])
def test_the_heatmap_page_and_its_badges_read_in_the_readers_language(live, locale, shown, hidden):
    base, deployment_id = live
    with chromium(locale=locale) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, base, "owner")
        page.goto(f"{base}/owner/heatmap/{deployment_id}/after_sales")
        page.wait_for_selector("#heatmap[data-ready=true]")
        text = page.inner_text("body").lower()  # headings may be shown in capitals
        assert all(s.lower() in text for s in shown), [s for s in shown if s.lower() not in text]
        assert not [h for h in hidden if h.lower() in text]
        badge = page.locator("#heatmap .heat-badge").first
        words = badge.text_content() + badge.get_attribute("title")
        assert (("次 · 等待 p90" in words and "平均等待" in words) if locale == "zh-CN"
                else ("× · wait p90" in words and "average waiting" in words)), words
        shot(page, f"heatmap-{locale[:2]}")
