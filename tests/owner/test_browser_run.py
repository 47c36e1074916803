"""The owner's run controls in a real browser, in English and Chinese: a what-if of 50 tickets of a draft
against the deployed version, then migrating three running tickets after a dry run — after which a new ticket
follows the new version while the unmigrated one finishes on the old."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401  (the simple process calls test.echo)
from engine import drafts
from engine.deploy import deploy
from engine.identity import Actor
from engine.models import Instance, WorkItem
from engine.pilots import find_definition
from handlers.demo import DATA_DIR
from tests.conftest import PROCESSES
from tests.owner.run_support import renamed_review
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
AGENT = Actor("ann", frozenset({"agent"}))
APPROVAL_LIMIT = "<text>&gt; 1000</text>"
SIMULATION_MS = 30 * 60 * 1000  # the page reloads itself when the simulator is done


@pytest.fixture
def site(tmp_path, sqlite_template):
    """processes/ deployed with its catalogue, a draft lowering the agents' approval limit, four simple tickets
    at review on simple v1 and a simple v2 (its review renamed), and a process owner; served on loopback."""
    users = {"olga": ["process_owner"]}
    config = {"WHATIF_DIR": str(tmp_path / "whatif")}
    with live_site(tmp_path, sqlite_template, [PROCESSES], users, config, catalogue=DATA_DIR) as (base, services):
        db, runtime = services.db, services.runtime
        with db.transaction() as s:
            current = find_definition(s, "after_sales").deployment_id
            draft_id = drafts.create_draft(s, "Supervisor approves every quote", "olga", current)["id"]
            dmn = drafts.read_file(s, draft_id, "quote_approval.dmn").decode().replace(APPROVAL_LIMIT,
                                                                                     "<text>&gt; 0</text>")
            drafts.save_file(s, draft_id, "quote_approval.dmn", dmn.encode(), "olga")
            v1 = deploy(s, renamed_review("Review"), "olga").deployment_id
            tickets = [runtime.start(s, "simple", {}, f"S-{n}", "ann").instance_id for n in range(1, 5)]
        for instance_id in tickets:
            with db.transaction() as s:
                item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
                runtime.complete_task(s, item.task_id, AGENT, {"customer": "C", "amount": 5})
        with db.transaction() as s:
            v2 = deploy(s, renamed_review("Review v2"), "olga").deployment_id
        yield base, services, draft_id, v1, v2, tickets


def deployment_of(services, instance_id):
    with services.db.transaction(write=False) as s:
        return s.get(Instance, instance_id).deployment_id


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "texts"), [
    ("en", {"run": "Run the what-if", "dry": "Dry run", "can": "3 of 3 ticket(s) can move.",
            "moved": "3 of 3 ticket(s) moved.", "routes": "Tickets per route"}),
    ("zh", {"run": "运行假设分析", "dry": "试运行", "can": "3 张工单中有 3 张可以迁移。",
            "moved": "3 张工单中已迁移 3 张。", "routes": "各路径工单数"}),
])
def test_what_if_then_migrate_three_tickets_after_a_dry_run(site, lang, texts):
    base, services, draft_id, v1, v2, tickets = site
    errors: list[str] = []
    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "olga")
        page.goto(f"{base}/lang/{lang}?next=/owner/workbench")

        # When the owner runs a what-if of 50 tickets of the draft against the deployed version
        page.goto(f"{base}/owner/drafts/{draft_id}/whatif")
        page.fill("input[name=tickets]", "20")
        page.fill("input[name=days]", "7")
        page.click(f"button:has-text('{texts['run']}')")
        page.wait_for_selector("#whatif-job")
        shot(page, f"run-whatif-progress-{lang}")
        page.wait_for_selector("#whatif-job[data-state=done]", timeout=SIMULATION_MS)

        # Then both sides' figures, routes and heatmaps are shown
        page.wait_for_selector("#heat-tried[data-ready=true]")
        page.wait_for_selector("#heat-deployed[data-ready=true]")
        assert page.locator("table.figures td[data-figure=tickets]").count() == 2
        assert texts["routes"] in page.content()
        page.select_option("#whatif-process", "quote_approval")
        page.wait_for_selector("#heat-tried[data-ready=true] .heat-badge")
        shot(page, f"run-whatif-{lang}")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, f"run-whatif-390-{lang}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        page.set_viewport_size({"width": 1360, "height": 860})

        # When she picks three of the four running simple tickets and dry-runs them to v2
        page.goto(f"{base}/owner/migrate?process_id=simple")
        page.check("#select-all")
        page.uncheck(f"input[name=instance_ids][value='{tickets[3]}']")
        page.select_option("select[name=to_deployment_id]", str(v2))
        page.click(f"#migrate-pick button:has-text('{texts['dry']}')")
        page.wait_for_selector("#verdicts[data-action=dry_run]")
        assert texts["can"] in page.content()
        assert [deployment_of(services, t) for t in tickets] == [v1, v1, v1, v1]  # a dry run changes nothing
        shot(page, f"run-migrate-dry-run-{lang}")

        # And migrates them
        page.click("#migrate-confirm button")
        page.wait_for_selector("#verdicts[data-action=migrate]")
        assert texts["moved"] in page.content()
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, f"run-migrate-390-{lang}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert not errors

    # Then the three run on v2, the fourth still on v1
    assert [deployment_of(services, t) for t in tickets] == [v2, v2, v2, v1]
    db, runtime = services.db, services.runtime
    # And a new ticket follows the new version
    with db.transaction() as s:
        new = runtime.start(s, "simple", {}, "S-new", "ann").instance_id
    assert deployment_of(services, new) == v2
    # And the unmigrated ticket finishes on the old one, with the old version's task
    runtime.instances.clear()
    with db.transaction() as s:
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == tickets[3])).one()
        assert review.name == "Review"
        runtime.complete_task(s, review.task_id, AGENT, {})
    with db.transaction() as s:
        runtime.deliver_message(s, "customer_ok", "S-4", {"ok": True})
    with db.transaction(write=False) as s:
        old = s.get(Instance, tickets[3])
        assert (old.status, old.deployment_id) == ("completed", v1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_earlier_version_is_made_current_then_a_channel_pilot_started_with_the_form(site, lang):
    base, services, _draft_id, v1, v2, _tickets = site
    errors: list[str] = []

    def started(channel: str) -> int:
        with services.db.transaction() as s:
            instance_id = services.runtime.start(s, "simple", {"channel": channel}, None, "ann").instance_id
        return deployment_of(services, instance_id)

    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "olga")
        page.goto(f"{base}/lang/{lang}?next=/owner/pilots")
        # When the owner rolls simple back to v1 with "Make current"
        page.click(f"#versions tr[data-deployment='{v1}'] button[type=submit]")
        page.wait_for_selector(f"#versions tr[data-deployment='{v1}'] .tag")
        assert started("hotline") == v1
        # And pilots v2 on the web channel with the form
        page.select_option("#start-pilot select[name=process_id]", "simple")
        page.fill("#start-pilot input[name=deployment_id]", str(v2))
        page.select_option("#start-pilot select[name=channel]", "web")
        page.click("#start-pilot button[type=submit]")
        page.wait_for_selector("article.pilot[data-status=active]")
        shot(page, f"run-pilots-{lang}")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, f"run-pilots-390-{lang}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert not errors
    # Then web tickets start on v2, the others on v1
    assert (started("web"), started("hotline")) == (v2, v1)
