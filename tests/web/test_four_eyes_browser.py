"""Four eyes in Chromium, in Chinese and English: a supervisor proposes goodwill, cannot approve it, and a
second supervisor approves. Screenshots: ``test-artifacts/screenshots/four-eyes-*.png``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.identity import Actor
from engine.models import AuditEvent
from tests.process.driver import PROCESSES, Desk
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
USERS = {"ann": ["agent"], "sam": ["supervisor"], "sue": ["supervisor"], "tom": ["technician"],
         "wes": ["warehouse"], "quinn": ["qa"]}
OUT_OF_WARRANTY = {"product": {"purchase_date": "2021-05-01"}}
MOTOR = [{"sku": "WM-MOTOR-INV", "quantity": 1}]
SAID = {
    "zh": {"note": "您完成了本工单的“提出解决方案”，因此“审批报价”必须由另一人完成（四眼原则）。",
           "row": "需由他人办理（四眼原则）"},
    "en": {"note": "You completed “Propose a solution” of this ticket, so someone else must do “Approve the quote” "
                   "(four-eyes rule).", "row": "Not for you: four eyes"},
}


@pytest.fixture
def site(tmp_path, sqlite_template, clock):
    """The real processes and catalogue served on loopback, with a washer waiting for *Propose a solution*."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=PROCESSES / "data") as (base, services):
        staff = {roles[0]: Actor(name, frozenset(roles)) for name, roles in USERS.items() if name != "sam"}
        case = Desk(services.db, services.runtime, clock, staff).open_case()
        case.register(**OUT_OF_WARRANTY).diagnose(MOTOR)
        assert case.ready() == ["propose_solution"]
        yield base, case


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_supervisor_who_proposed_goodwill_cannot_approve_it_and_a_second_supervisor_does(site, lang):
    base, case = site
    propose = case.work_items()[0].task_id
    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        # Given sam, a supervisor, proposes the repair as goodwill (the agent's step) in the browser
        sign_in(page, base, "sam")
        page.goto(f"{base}/lang/{lang}?next=/tasks")
        page.goto(f"{base}/tasks/{propose}")
        page.locator("input[name=solution][value=repair]").check()
        page.locator("input[name=route][value=field]").check()
        page.locator("input[name=goodwill]").check()
        page.fill("[name=justification]", "Long-standing customer, the motor failed early")
        page.locator("form.taskform button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator(".field-error").count() == 0
        # Then he is not led on to the approval he may not do
        [approval] = [w.task_id for w in case.work_items() if w.element_id == "review_quote"]
        assert approval not in page.url

        # When he looks at every open task, Then the approval's row offers no Claim and says why
        page.goto(f"{base}/tasks?tab=all")
        row = page.locator("table.tasklist tbody tr", has=page.locator(f"a[href='/tasks/{approval}']"))
        assert row.locator(".four-eyes").inner_text() == SAID[lang]["row"]
        assert row.locator("form[action$='/claim']").count() == 0
        shot(page, f"four-eyes-tasklist-{lang}")

        # When he opens the approval, Then the page says why he cannot, and Complete is off
        page.goto(f"{base}/tasks/{approval}")
        assert page.locator("#four-eyes").inner_text().startswith(SAID[lang]["note"])
        assert page.locator("form.taskform button[type=submit]").is_disabled()
        assert page.locator("#reassign-assignee option[value=sam]").count() == 0
        assert page.locator("#reassign-assignee option[value=sue]").count() == 1
        shot(page, f"four-eyes-proposer-{lang}")
        context.clear_cookies()  # signed out

        # When sue, the second supervisor, approves it
        sign_in(page, base, "sue")
        page.goto(f"{base}/lang/{lang}?next=/tasks")
        page.goto(f"{base}/tasks/{approval}")
        assert page.locator("#four-eyes").count() == 0
        page.locator("input[name=decision][value=approve]").check()
        shot(page, f"four-eyes-second-supervisor-{lang}")
        page.locator("form.taskform button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator(".field-error").count() == 0
        shot(page, f"four-eyes-approved-{lang}")

    # Then the quote went to the customer, proposed by sam and approved by sue
    assert case.data()["approval"]["decision"] == "approve"
    assert case.waiting_for() == ["quote_response"]
    done = case.desk.read(lambda s: [tuple(r) for r in s.execute(select(AuditEvent.element_id, AuditEvent.actor).where(
        AuditEvent.instance_id == case.instance_id, AuditEvent.kind == "task.completed",
        AuditEvent.element_id.in_(("propose_solution", "review_quote"))).order_by(AuditEvent.id))])
    assert done == [("propose_solution", "sam"), ("review_quote", "sue")]
