"""Every human task of the deployed bundle has a priority and an SLA due time, and the
tasklist sorts and filters on the due time it shows.

The walk replays every journey scenario of ``tests/process/`` and, after each step, looks
at every ready human task: it must carry a priority and a due time (its own timer, or its
ticket's running SLA clock, as the tasklist shows it). Together the walk must reach every
user task of the after-sales bundle; the root-cause analysis, started by the KPI worker,
is started here directly.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from engine.identity import Actor
from engine.models import WorkItem
from readmodels.tasklist import TasklistPage, Worklist, list_worklist, running_clocks, tasklist_page
from tests.process.coverage import journey_files
from tests.process.driver import PROCESSES, Case, Desk

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
JOURNEY_MODULES = sorted(p.stem for p in Path(__file__).parent.glob("test_journey_*.py"))
JOURNEYS: list[tuple[str, Callable[[Desk], None]]] = [
    (f"{module}::{name}", fn)
    for module in JOURNEY_MODULES
    for name, fn in inspect.getmembers(importlib.import_module(f"tests.process.{module}"), inspect.isfunction)
    if name.startswith("test_") and list(inspect.signature(fn).parameters) == ["desk"]
]
#: user task → the journeys that reached it (filled by the walk, read by the last test)
reached: dict[str, set[str]] = {}


def user_tasks(files: list[Path]) -> set[str]:
    """Return the ids of the user tasks in ``files``."""
    return {task.get("id") for path in files for task in etree.parse(str(path)).getroot().iter(f"{BPMN}userTask")}


def missing_priority_or_sla(desk: Desk, instance_id: int) -> list[str]:
    """Return the ready tasks of an instance that lack a priority or a due time, and note the rest."""
    items = desk.read(lambda s: list(s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id))))
    clocks = desk.read(lambda s: running_clocks(s, [instance_id]))
    page = TasklistPage(items, len(items), {}, {}, clocks)
    bad = []
    for item in items:
        if not item.priority or page.due(item) is None:
            bad.append(f"{item.element_id} (priority {item.priority!r}, due {page.due(item)!r})")
    return bad


# ids without "::", so pytest-xdist keeps the whole walk (and the check after it) in one worker
@pytest.mark.parametrize(("journey", "scenario"), JOURNEYS, ids=[name.replace("::", "/") for name, _ in JOURNEYS])
def test_every_ready_task_of_a_journey_has_a_priority_and_a_due_time(
        desk: Desk, monkeypatch: pytest.MonkeyPatch, journey: str, scenario: Callable[[Desk], None]) -> None:
    seen: list[str] = []
    original = Case.check

    def check(case: Case) -> None:
        original(case)
        for item in case.work_items():
            reached.setdefault(item.element_id, set()).add(journey)
        seen.extend(missing_priority_or_sla(case.desk, case.instance_id))

    monkeypatch.setattr(Case, "check", check)
    scenario(desk)
    assert sorted(set(seen)) == []


def test_the_root_cause_analysis_has_a_priority_and_a_due_time(desk: Desk) -> None:
    result = desk.trigger(lambda s: desk.runtime.start(s, "root_cause_analysis", {
        "ticket_number": "AS-20260302-00001", "resolution_hours": 60.0, "target_hours": 48.0, "paused_hours": 2.0,
        "channel": "hotline", "priority": "high", "product_line": "washer", "opened_at": "2026-02-20T09:00:00+00:00",
        "resolved_at": "2026-02-23T09:00:00+00:00", "bottlenecks": []}, None, "system"))
    assert missing_priority_or_sla(desk, result.instance_id) == []
    reached.setdefault("analyse_root_cause", set()).add("root cause analysis")


def test_the_walk_reached_every_user_task_of_the_bundle() -> None:
    if len(reached) == 0:
        pytest.skip("runs after the walk (run the whole file)")
    files = [*journey_files(PROCESSES), PROCESSES / "root_cause_analysis.bpmn"]
    assert sorted(user_tasks(files) - set(reached)) == []


# --- the tasklist sorts and filters on the due time it shows ------------------------------
def test_an_overdue_escalation_sorts_first_and_counts_as_breached(desk: Desk) -> None:
    # Given a ticket nobody answered: its response clock ran out and a supervisor got the escalation
    late = desk.open_case()
    late.register()
    response = late.data()["response_clock"]
    late.wait_until(response["due_at"], minutes=1)
    assert late.lanes() == {"respond_to_customer": "agent", "handle_escalation": "supervisor",
                            "act_on_sla_warning": "agent"}
    # And a fresh ticket of another customer registered now, due later
    fresh = desk.open_case()
    fresh.register(customer={"name": "Wang Wei", "phone": "+86 138 0000 0002", "email": "wang.wei@example.com"},
                   product={"serial_number": "WMF80-0002"})
    supervisor: Actor = desk.staff["supervisor"]
    now = desk.clock.now()

    def listed(**filters: Any) -> list[tuple[str, str]]:
        def read(s: Any) -> list[tuple[str, str]]:
            items, _ = list_worklist(s, supervisor, Worklist(scope="all", **filters), now)
            return [(i.business_key, i.element_id) for i in items]
        return desk.read(read)

    # When the supervisor sorts every open task by SLA due
    order = listed(sort="due_at")
    # Then the escalation, which has no timer of its own, sorts with its overdue ticket, before the fresh ticket
    escalation = (late.ticket_number, "handle_escalation")
    assert order.index(escalation) < order.index((fresh.ticket_number, "respond_to_customer"))
    assert {key for key, _ in order[:3]} == {late.ticket_number}
    # And the breached filter lists it, and nothing of the fresh ticket
    breached = listed(sla="breached")
    assert escalation in breached and all(key == late.ticket_number for key, _ in breached)
    # And the page shows the same due time it sorted on
    page = desk.read(lambda s: tasklist_page(s, supervisor, Worklist(scope="all", sort="due_at"), now))
    shown = {(i.business_key, i.element_id): page.due(i) for i in page.items}
    assert shown[escalation] == datetime.fromisoformat(response["due_at"])
    assert shown[escalation] < now - timedelta(seconds=0)
