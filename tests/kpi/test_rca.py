"""Tickets over the 48 h resolution target get one root-cause analysis with their bottleneck steps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from analytics.rca import KpiRca, start_root_cause_analyses
from engine.audit import events_for
from engine.models import Instance, WorkItem
from engine.worker import Worker
from tests.kpi.conftest import refreshed, work
from tests.process.driver import Desk

USAGE = {"category": "usage", "symptoms": [], "description": "Which detergent should I use?"}


def late_and_quick(desk: Desk) -> tuple[str, str]:
    """One question answered after 50 h in the queue, and one answered in 10 minutes."""
    late = desk.open_case()
    late.register(urgency="low", impact="low", fault=USAGE)
    quick = desk.open_case()
    quick.register(customer={"phone": "+86 139 0000 0002", "email": "wang@example.com"},
                   product={"serial_number": "WMF80-0002"}, urgency="low", impact="low", fault=USAGE)
    work(quick, "respond_to_customer", {"resolved_now": True, "answer": "Low-foam detergent."},
         wait=timedelta(minutes=4), handle=timedelta(minutes=6))
    work(late, "respond_to_customer", {"resolved_now": True, "answer": "Low-foam detergent."},
         wait=timedelta(hours=50), handle=timedelta(minutes=12))
    return late.ticket_number, quick.ticket_number


def analyses(desk: Desk) -> list[Instance]:
    return desk.read(lambda s: list(s.scalars(select(Instance).where(Instance.process_id == "root_cause_analysis"))))


def test_late_ticket_gets_one_analysis_showing_its_slowest_steps(desk: Desk) -> None:
    # Given a ticket resolved after 50 h and one resolved in 10 minutes, their facts up to date
    late, quick = late_and_quick(desk)
    refreshed(desk)

    # When the KPI job looks for late tickets, twice
    assert start_root_cause_analyses(desk.database, desk.runtime, desk.clock.now()) == 1
    assert start_root_cause_analyses(desk.database, desk.runtime, desk.clock.now()) == 0

    # Then only the late ticket has an analysis, a supervisor's task keyed RCA-<ticket>
    (rca,) = analyses(desk)
    assert rca.business_key == f"RCA-{late}"
    assert desk.read(lambda s: s.get(KpiRca, late)).instance_id == rca.id
    assert desk.read(lambda s: s.get(KpiRca, quick)) is None
    item = desk.read(lambda s: s.scalars(select(WorkItem).where(WorkItem.instance_id == rca.id)).one())
    assert (item.element_id, item.role) == ("analyse_root_cause", "supervisor")

    # And its data names the bottleneck: the first response waited 50 h (after 10 minutes on the
    # other ticket) and took 12 minutes
    assert (rca.summary["priority"], rca.summary["channel"]) == ("low", "hotline")
    created = desk.read(lambda s: events_for(s, rca.id))[0].data["data"]
    assert created["ticket_number"] == late and created["resolution_hours"] > 48
    assert created["bottlenecks"][0] == {"name": "Respond to the customer", "role": "agent",
                                         "waiting_hours": 50.2, "working_hours": 0.2}

    # When the supervisor records the cause and the action, the analysis is done
    desk.trigger(lambda s: desk.runtime.complete_task(s, item.task_id, desk.staff["supervisor"], {
        "cause_category": "staffing", "description": "The queue was not watched over the weekend",
        "action": "Weekend rota for the chat queue"}))
    assert analyses(desk)[0].status == "completed"


def test_the_worker_starts_the_analysis_after_refreshing_the_facts(desk: Desk) -> None:
    # Given a late ticket whose facts are not refreshed yet
    late, _quick = late_and_quick(desk)

    # When the worker passes, twice
    stats = Worker(desk.database, desk.runtime).run_once()
    Worker(desk.database, desk.runtime).run_once()

    # Then the facts were refreshed and one analysis started, in the same pass
    assert stats.jobs["kpi"] >= 3
    assert [i.business_key for i in analyses(desk)] == [f"RCA-{late}"]
    assert desk.read(lambda s: s.scalar(select(func.count()).select_from(KpiRca))) == 1
