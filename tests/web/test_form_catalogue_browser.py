"""Forms that know the catalogue, in Chromium on a 390 px phone, in Chinese and English.

The agent's *Propose a solution* opens with what the technician recorded on site (parts,
hours) and offers parts as a pick list with their stock; a part the catalogue does not have
(a stale page or a crafted post) is refused on its row. The supervisor's manual assignment
refuses an unknown technician and an appointment that ends before it starts, on their
fields. Every refusal keeps what was typed and changes nothing. Screenshots:
``test-artifacts/screenshots/form-catalogue-*.png``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.identity import Actor
from engine.models import WorkItem
from handlers.dispatch import Assignment, Technician
from tests.conftest import PROCESSES
from tests.process.driver import Desk
from tests.web.live import chromium, live_site, shot
from tests.web.test_technician_browser import phone

pytestmark = pytest.mark.browser
USERS = {"tech.wang": ["technician"], "sue": ["supervisor"], "ann": ["agent"], "wes": ["warehouse"],
         "quinn": ["qa"]}
UNKNOWN = """([name, value]) => { const s = document.querySelector(`select[name="${name}"]`);
    if (![...s.options].some(o => o.value === value)) s.add(new Option(value, value)); s.value = value; }"""


@pytest.fixture
def two_cases(tmp_path, sqlite_template, clock):
    """One ticket at *Propose a solution* after the inspection, one waiting for a supervisor's assignment."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=PROCESSES / "data") as (base, services):
        desk = Desk(services.db, services.runtime, clock,
                    {roles[0]: Actor(name, frozenset(roles)) for name, roles in USERS.items()})
        proposal = desk.open_case().register().diagnose()
        assert proposal.ready() == ["propose_solution"]
        with services.db.transaction() as s:
            s.get(Technician, "tech.wang").leave = [{"from": "2026-03-01", "to": "2026-03-03"}]
        waiting = desk.open_case().register(  # another customer's washer: not a repeat contact
            customer={"name": "Zhao Min", "phone": "+86 138 0000 0002", "email": "zhao.min@example.com"},
            product={"serial_number": "WMF80-0002"}).respond().assist()
        assert waiting.ready() == ["assign_technician_manually"]
        yield base, desk, proposal, waiting


def state(desk: Desk) -> dict[str, Any]:
    """What a refused form must leave alone: the open tasks and the booked visits."""
    def read(s):  # type: ignore[no-untyped-def]
        items = s.scalars(select(WorkItem))
        return {"tasks": sorted((w.business_key or "", w.element_id, w.assignee or "") for w in items),
                "visits": s.scalar(select(func.count()).select_from(Assignment))}
    return desk.read(read)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unknown_part_technician_and_end_before_start_are_refused_on_their_fields_keeping_what_was_typed(
        two_cases, lang):
    base, desk, proposal, waiting = two_cases
    before = state(desk)
    propose = proposal.work_items()[0].task_id
    assign = waiting.work_items()[0].task_id
    with chromium() as context:
        # --- the agent: the technician's parts and hours are there, parts offered with their stock
        page = phone(context.browser, base, "ann", lang)
        page.goto(f"{base}/tasks/{propose}")
        sku = page.locator('select[name="parts.0.sku"]')
        assert sku.input_value() == "WM-PUMP-01"
        assert page.locator('input[name="labour_hours"]').input_value() == "1.5"
        pump = sku.locator("option[value='WM-PUMP-01']").inner_text()
        assert ("排水泵 (库存 " if lang == "zh" else "Drain pump 30 W (") in pump
        shot(page, f"form-catalogue-propose-{lang}")
        page.evaluate(UNKNOWN, ["parts.0.sku", "WM-NOPE-99"])
        page.locator('select[name="parts.0.quantity"], input[name="parts.0.quantity"]').first.fill("3")
        page.locator("input[name=solution][value=repair]").check()
        page.locator("input[name=route][value=field]").check()
        page.locator("form.taskform button[type=submit]").click()
        error = page.locator("#f-parts-0-sku-error")
        assert error.inner_text() == ("目录中没有此项，请从选项中选择。" if lang == "zh"
                                      else "Not in the catalogue: choose one of the options.")
        assert sku.input_value() == "WM-NOPE-99"
        assert page.locator('input[name="parts.0.quantity"]').input_value() == "3"
        assert page.locator("input[name=route][value=field]").is_checked()
        assert page.locator('input[name="labour_hours"]').input_value() == "1.5"
        shot(page, f"form-catalogue-unknown-part-{lang}")

        # --- the supervisor: an unknown technician and a window that ends before it starts
        page = phone(context.browser, base, "sue", lang)
        page.goto(f"{base}/tasks/{assign}")
        assert page.locator("select[name=technician] option[value='tech.liu']").count() == 1
        page.evaluate(UNKNOWN, ["technician", "tech.nobody"])
        page.fill("input[name=name]", "Somebody")
        page.fill("input[name='appointment.start']", "2026-03-05T12:00")
        page.fill("input[name='appointment.end']", "2026-03-05T10:00")
        page.fill("#f-reason", "The only one I could reach")
        page.locator("form.taskform button[type=submit]").click()
        assert page.locator("#f-technician-error").inner_text() == (
            "目录中没有此项，请从选项中选择。" if lang == "zh" else "Not in the catalogue: choose one of the options.")
        assert page.locator("#f-appointment-end-error").inner_text() == (
            "必须晚于 “开始时间”。" if lang == "zh" else "Must be after “From”.")
        assert page.locator("select[name=technician]").input_value() == "tech.nobody"
        assert page.locator("input[name='appointment.start']").input_value() == "2026-03-05T12:00"
        assert page.locator("input[name='appointment.end']").input_value() == "2026-03-05T10:00"
        assert page.locator("#f-reason").input_value() == "The only one I could reach"
        shot(page, f"form-catalogue-end-before-start-{lang}")
    assert state(desk) == before
