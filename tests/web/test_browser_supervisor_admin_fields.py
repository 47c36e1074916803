"""Supervisor and admin fields in Chromium, in English and Chinese: the escalation's New owner is a pick list whose
choice shows on the ticket's timeline; the tasklist's Age arrow agrees with its order; the admin's KPI thresholds
of shares are per cent. Screenshots under test-artifacts/screenshots/fields-*."""

from __future__ import annotations

import pytest

from engine.identity import Actor
from handlers.demo import DATA_DIR
from tests.conftest import PROCESSES
from tests.process.driver import Desk
from tests.process.test_escalation_new_owner import escalated
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
USERS = {"ann": ["agent"], "sue": ["supervisor"], "adam": ["admin"], "tom": ["technician"], "wes": ["warehouse"],
         "quinn": ["qa"]}
TEXTS = {"en": {"complete": "Complete task", "owner": "New owner:", "save": "Save settings"},
         "zh": {"complete": "完成任务", "owner": "新负责人：", "save": "保存设置"}}


@pytest.fixture
def site(tmp_path, sqlite_template):
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=DATA_DIR) as served:
        yield served


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_new_owner_age_arrow_and_percent_thresholds(site, clock, lang):
    base, services = site
    t = TEXTS[lang]
    staff = {role: Actor(name, frozenset([role])) for name, [role] in USERS.items()}
    case = escalated(Desk(services.db, services.runtime, clock, staff))
    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "sue")
        # The tasklist sorted by Age: the arrow says the longest wait comes first
        page.goto(f"{base}/lang/{lang}?next=/tasks?tab=all%26sort=created_at")
        assert page.inner_text("th.col-created_at").strip().endswith("▼")
        shot(page, f"fields-tasklist-age-{lang}")
        # The escalation's New owner offers the agents and supervisors by name
        page.goto(f"{base}/tickets/{case.ticket_number}")
        page.goto(f"{base}/tasks?tab=all")
        page.locator("table.tasklist tbody tr", has_text=case.ticket_number).locator(
            "td.col-name a").filter(has_text="升级" if lang == "zh" else "escalation").click()
        options = page.eval_on_selector_all("#f-new_owner option", "os => os.map(o => o.value)")
        assert "ann" in options and "sue" in options and "tom" not in options and "quinn" not in options
        page.select_option("[name=root_cause]", "workload")
        page.fill("[name=action_taken]", "Moved to the senior queue")
        page.select_option("#f-new_owner", "ann")
        shot(page, f"fields-escalation-owner-{lang}")
        page.click(f"button.primary:has-text('{t['complete']}')")
        page.wait_for_load_state()
        page.goto(f"{base}/tickets/{case.ticket_number}")
        assert t["owner"] in page.inner_text("#timeline")
        shot(page, f"fields-ticket-owner-{lang}")

    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "adam")
        page.goto(f"{base}/lang/{lang}?next=/admin/settings")
        field = "[name='kpi.csat_quarter.threshold']"
        assert page.input_value(field) == "85"
        page.fill(field, "150")
        page.click(f"button.primary:has-text('{t['save']}')")
        page.wait_for_selector("#err-kpi-csat_quarter-threshold")
        assert page.input_value(field) == "150"
        page.locator("#kpi").scroll_into_view_if_needed()
        shot(page, f"fields-admin-percent-{lang}")
