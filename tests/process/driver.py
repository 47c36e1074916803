"""Drive instances of the real after-sales process the way the product does: one trigger
per transaction, the in-memory instance cache emptied before each, so every step starts
from what the database holds."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import projection, store
from engine.audit import events_for
from engine.bundle import read_bundle
from engine.db import Database
from engine.deploy import deploy
from engine.identity import Actor
from engine.message_contracts import Sender
from engine.models import Incident, Instance, MessageSubscription, WorkItem
from engine.runtime import Runtime
from handlers import sla
from handlers.demo import DATA_DIR, load_catalogue
from handlers.outbox import Outbox
from handlers.parts import restock_and_notify
from handlers.ticketing import Ticket

PROCESSES = Path(__file__).resolve().parents[2] / "processes"

INTAKE: dict[str, Any] = {
    "channel": "hotline",
    "customer": {"name": "Li Na", "phone": "+86 138 0000 0001", "email": "li.na@example.com", "tier": "normal",
                 "language": "en", "preferred_channel": "email", "region": "east"},
    "product": {"model": "WM-F80", "serial_number": "WMF80-0001", "purchase_date": "2025-09-01",
                "proof_of_purchase": "INV-2025-0901"},
    "fault": {"category": "hardware", "description": "The washer does not drain; water stays in the drum, E21",
              "symptoms": ["not_draining", "error_code"]},
    "expectation": "Repaired this week",
    "urgency": "medium",
    "impact": "high",
}
PUMP = [{"sku": "WM-PUMP-01", "quantity": 1}]
ALWAYS_OPEN = {"customer_cancel", "customer_contact", "sla_warning", "sla_breached"}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``changes`` merged in, one level of nesting deep."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


class ProcessIncident(AssertionError):
    """Raised when a step leaves the instance with an open incident."""


#: the desk's staff, role → user name (made by the tests' ``make_user``)
STAFF = (("agent", "ann"), ("technician", "tom"), ("warehouse", "wes"), ("supervisor", "sue"), ("qa", "quinn"))


@dataclass
class Desk:
    """The service desk of one test: database, runtime, frozen clock, one user per role."""

    database: Database
    runtime: Runtime
    clock: Any
    staff: dict[str, Actor]
    cases: list[Case] = field(default_factory=list)

    def deploy(self, folder: Path = PROCESSES) -> None:
        """Deploy ``folder`` (``processes/`` unless told) and load the demo catalogue."""
        with self.database.transaction() as session:
            deploy(session, read_bundle([folder], name="processes"), "owner")
            load_catalogue(session, DATA_DIR)

    def open_case(self, **start_data: Any) -> Case:
        """Start an after-sales instance (the request arrives) and return its driver."""
        case = Case(self)
        case.start(start_data)
        self.cases.append(case)
        return case

    def trigger(self, action: Callable[[Session], Any]) -> Any:
        """Run ``action`` as one trigger, starting from the database (no cached workflow)."""
        self.runtime.instances.clear()
        with self.database.transaction() as session:
            return action(session)

    def read(self, query: Callable[[Session], Any]) -> Any:
        """Run a read-only query."""
        with self.database.transaction(write=False) as session:
            return query(session)


class Case:
    """One customer request travelling through the after-sales process."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.instance_id: int = 0

    # --- triggers ------------------------------------------------------------------------
    def start(self, data: dict[str, Any]) -> None:
        """The request arrives on some channel."""
        result = self.desk.trigger(lambda s: self.desk.runtime.start(s, "after_sales", data, None, "ann"))
        self.instance_id = result.instance_id
        self.check()

    def complete(self, element_id: str, data: dict[str, Any],
                 where: Callable[[dict[str, Any]], bool] | None = None) -> Case:
        """Complete the ready task ``element_id`` (the one whose data satisfies ``where``) as a
        member of its lane's role."""
        items = [w for w in self.work_items() if w.element_id == element_id]
        if where is not None:
            items = [w for w in items if where(self.task_data(w.task_id))]
        assert len(items) == 1, f"expected one ready {element_id!r}, ready: {self.ready()}"
        item = items[0]
        actor = self.desk.staff[item.role]
        self.desk.trigger(lambda s: self.desk.runtime.complete_task(s, item.task_id, actor, data))
        self.check()
        return self

    def message(self, name: str, payload: dict[str, Any]) -> Case:
        """The customer, the warehouse or the web sends message ``name`` about this ticket."""
        sender = Sender.acting(self.desk.staff["warehouse"]) if name == "device_received" else Sender.customer()
        self.desk.trigger(lambda s: self.desk.runtime.deliver_message(s, name, self.ticket_number, payload,
                                                                      sender=sender))
        self.check()
        return self

    def wait(self, **duration: float) -> Case:
        """Let time pass, then fire whatever timers fell due."""
        self.desk.clock.advance(timedelta(**duration))
        self.desk.trigger(lambda s: self.desk.runtime.fire_timers(s, self.instance_id))
        self.check()
        return self

    def restock(self, sku: str, quantity: int, warehouse: str = "WH-SH") -> Case:
        """The warehouse books a delivery in; back-ordered tickets get 'parts_arrived'."""
        self.desk.trigger(lambda s: restock_and_notify(s, self.desk.runtime, sku, warehouse, quantity,
                                                       self.desk.clock.now()))
        self.check()
        return self

    def watch_sla(self) -> Case:
        """Run the worker's SLA watch now: due warnings and breaches become messages."""
        sla.watch(self.desk.database, self.desk.runtime, self.desk.clock.now())
        self.check()
        return self

    def wait_until(self, moment: str, **extra: float) -> Case:
        """Let time pass until the ISO timestamp ``moment`` (plus ``extra``), firing timers and
        the SLA watch."""
        self.desk.clock.set(datetime.fromisoformat(moment) + timedelta(**extra))
        self.desk.trigger(lambda s: self.desk.runtime.fire_timers(s, self.instance_id))
        return self.watch_sla()

    def check(self) -> None:
        """Fail with the incident's message when a step left the instance broken."""
        incidents = self.desk.read(lambda s: [f"{i.element_id}: {i.message}" for i in s.scalars(
            select(Incident).where(Incident.instance_id == self.instance_id, Incident.status != "resolved"))])
        if incidents:
            raise ProcessIncident("; ".join(incidents))

    # --- steps of the journey --------------------------------------------------------------
    def register(self, **changes: Any) -> Case:
        """The agent registers the request (intake form), with ``changes`` to the sample intake."""
        return self.complete("register_request", merged(INTAKE, changes))

    def respond(self, resolved: bool = False, answer: str = "We will diagnose the washer for you.") -> Case:
        """The agent's first response."""
        return self.complete("respond_to_customer", {"resolved_now": resolved, "answer": answer})

    def assist(self, outcome: str = "unresolved", finding: str = "Drain filter cleaned, still E21",
               **extra: Any) -> Case:
        """The agent's remote assistance."""
        return self.complete("assist_remotely", {"outcome": outcome, "finding": finding, **extra})

    def inspect_on_site(self, parts: list[dict[str, Any]] | None = None, hours: float = 1.5) -> Case:
        """The field technician's inspection."""
        return self.complete("inspect_on_site", {"cause": "Drain pump jammed", "repairable": True,
                                                 "parts_needed": PUMP if parts is None else parts,
                                                 "labour_hours": hours})

    def propose(self, parts: list[dict[str, Any]] | None = None, **changes: Any) -> Case:
        """The agent proposes the solution (repair by a field technician unless changed)."""
        form = {"solution": "repair", "route": "field", "parts": PUMP if parts is None else parts,
                "labour_hours": 1.5, "goodwill": False, "warranty_exception": False, **changes}
        return self.complete("propose_solution", form)

    def diagnose(self, parts: list[dict[str, Any]] | None = None) -> Case:
        """First response, remote assistance that fails, on-site inspection."""
        return self.respond().assist().inspect_on_site(parts)

    def answer_quote(self, accepted: bool, comment: str = "") -> Case:
        """The customer confirms or declines the quote."""
        return self.message("quote_response", {"accepted": accepted, "comment": comment})

    def repair(self, parts_used: list[dict[str, Any]] | None = None,
               work_done: str = "Replaced the drain pump") -> Case:
        """The technician's repair record."""
        return self.complete("repair_device", {"work_done": work_done,
                                               "parts_used": PUMP if parts_used is None else parts_used,
                                               "time_spent_minutes": 75})

    def inspect_repair(self, passed: bool = True, findings: str = "") -> Case:
        """The quality inspection."""
        form: dict[str, Any] = {"functional_test": "pass" if passed else "fail", "safety_check": "pass",
                                "passed": passed}
        if findings or not passed:
            form["findings"] = findings or "Still leaks at the pump seal"
        return self.complete("inspect_repair", form)

    def confirm(self, solved: bool = True) -> Case:
        """The customer confirms (or denies) that the problem is solved."""
        return self.message("customer_confirmation", {"solved": solved, "comment": ""})

    def answer_survey(self, csat: int = 5, nps: int = 9, comment: str = "Quick and friendly") -> Case:
        """The customer answers the satisfaction survey."""
        return self.message("survey_answered", {"csat": csat, "nps": nps, "comment": comment, "via": "web"})

    # --- what the database shows ------------------------------------------------------------
    @property
    def instance(self) -> Instance:
        return self.desk.read(lambda s: s.get(Instance, self.instance_id))

    @property
    def status(self) -> str:
        return self.instance.status

    @property
    def ticket_number(self) -> str:
        key = self.instance.business_key
        assert key, "the instance has no ticket number yet"
        return key

    def work_items(self) -> list[WorkItem]:
        return self.desk.read(lambda s: list(s.scalars(select(WorkItem).where(
            WorkItem.instance_id == self.instance_id).order_by(WorkItem.created_at, WorkItem.element_id))))

    def ready(self) -> list[str]:
        """Return the element ids of the human tasks waiting for someone."""
        return sorted(w.element_id for w in self.work_items())

    def lanes(self) -> dict[str, str]:
        """Return ready task → role."""
        return {w.element_id: w.role for w in self.work_items()}

    def listening(self) -> list[str]:
        """Return every message the instance would take now."""
        return sorted(self.desk.read(lambda s: list(s.scalars(select(MessageSubscription.message_name).where(
            MessageSubscription.instance_id == self.instance_id)))))

    def waiting_for(self) -> list[str]:
        """Return the messages the instance waits for at this point of its journey (the event
        subprocesses' messages and the cancellation, always open, left out)."""
        return [name for name in self.listening() if name not in ALWAYS_OPEN]

    def path(self) -> list[str]:
        """Return the elements completed so far, in order (timers and messages included)."""
        return [e.element_id for e in self.desk.read(lambda s: events_for(s, self.instance_id))
                if e.kind in ("task.completed", "timer.fired") and e.element_id]

    def took(self, *elements: str) -> bool:
        """Tell whether the instance completed each of ``elements``."""
        done = set(self.path())
        return all(e in done for e in elements)

    def data(self) -> dict[str, Any]:
        """Return the process data as of the last completed step (call activities included)."""
        def current(session: Session) -> dict[str, Any]:
            instance = session.get(Instance, self.instance_id)
            workflow = store.read_workflow(session, instance, self.desk.runtime.specs)
            if workflow.is_completed():
                return projection.current_data(workflow)
            done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id]
            return dict(max(done, key=lambda t: t.last_state_change).data)
        return self.desk.read(current)

    def task_data(self, task_id: str) -> dict[str, Any]:
        """Return the data of one task of the instance."""
        def read(session: Session) -> dict[str, Any]:
            instance = session.get(Instance, self.instance_id)
            workflow = store.read_workflow(session, instance, self.desk.runtime.specs)
            return dict(workflow.get_task_from_id(UUID(task_id)).data)
        return self.desk.read(read)

    def notifications(self) -> list[str]:
        """Return the milestones notified to the customer, in order."""
        return self.desk.read(lambda s: list(s.scalars(select(Outbox.milestone).where(
            Outbox.ticket_number == self.ticket_number).order_by(Outbox.id))))

    def ticket(self) -> Ticket:
        return self.desk.read(lambda s: s.scalars(select(Ticket).where(Ticket.number == self.ticket_number)).one())
