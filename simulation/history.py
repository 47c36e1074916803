"""A realistic history through the real engine, handlers and process (``aftersales simulate``).

A discrete-event simulation on the engine's injectable clock: requests arrive (weekday-
and office-hour-heavy), staff claim each ready task after it waited in the queue (business
hours, log-normal) and complete it after a log-normal handle time with the form data of
the scenario (:mod:`simulation.workload`), customers answer quotes, confirmations and
surveys or let the process's timers run, repeat contacts and cancellations come in, the
warehouse restocks back-ordered parts around their ETA, and the background worker passes
regularly (timers, SLA watch, outbox, KPI facts, alerts, root-cause analyses). Every step
is an ordinary trigger of :class:`engine.runtime.Runtime` in its own transaction.

The worker passes every ``worker_minutes`` of simulated time; its KPI job (refreshing the
facts and roll-ups, checking the alerts, starting root-cause analyses) only every
``kpi_minutes`` and once more at the end. A real worker runs the KPI job every few seconds
and checks alerts at most every five minutes; in a simulation that job is most of the
cost (about two thirds of a history's CPU at one look an hour), and nothing the simulated
desk does waits on it: the figures after the history are the same (the last pass refreshes
every fact), an alert is raised within ``kpi_minutes`` of its crossing instead of within
the hour.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update

from analytics.refresh import refresh
from engine import clock as engine_clock
from engine import duties, forms
from engine.db import Database
from engine.errors import AftersalesError, InvalidInput, MessageNotCorrelated
from engine.identity import Actor
from engine.message_contracts import Sender
from engine.models import Incident, Instance, MessageSubscription, WorkItem
from engine.runtime import Runtime
from engine.worker import Worker
from handlers.calendar import Calendar, default_calendars
from handlers.parts import Backorder, Stock, restock_and_notify
from handlers.sla import SlaClock
from handlers.values import business_timezone

from .workload import (
    Answers,
    Catalogue,
    Draw,
    Profile,
    arrival_times,
    load_parameters,
    new_profile,
    repeat_profile,
)

log = logging.getLogger("aftersales.simulate")
ALWAYS_OPEN = frozenset({"customer_cancel", "customer_contact", "sla_warning", "sla_breached"})


#: the worker jobs that run every ``kpi_minutes`` only (analytics/jobs.py), and that cadence's default
KPI_JOBS = ("kpi",)
KPI_MINUTES = 240


@dataclass
class Report:
    """What a simulation did."""

    requests: int = 0
    tickets: int = 0
    closed: int = 0
    tasks: int = 0
    messages: int = 0
    worker_passes: int = 0
    kpi_passes: int = 0  # the worker passes that ran the KPI job (every ``kpi_minutes``, and the last)
    open_incidents: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


class Simulation:
    """One simulated history: an event queue on a frozen clock driving the real engine."""

    def __init__(self, db: Database, runtime: Runtime, params: dict[str, Any], seed: int) -> None:
        self.db, self.runtime, self.params, self.seed = db, runtime, params, seed
        self.draw = Draw(seed)
        self.answers = Answers(params)
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.counter = 0
        self.seen: set[Any] = set()
        self.profiles: dict[int, Profile] = {}
        #: the instances this simulation made (its requests, and what its worker passes started): the only ones
        #: it works on. The demo's UI serves live tickets from the same database meanwhile, and those are not
        #: its staff's or customers' to touch.
        self.ours: set[int] = set()
        self.actors: dict[str, Actor] = {}
        self.report = Report()
        self.calendar: Calendar = default_calendars()["standard"]
        self.staff = params["staff"]
        self.next_kpi: datetime | None = None  # when the worker's KPI job looks next
        self.clock = engine_clock.FrozenClock(datetime.now(UTC))  # run() sets it to the period's start
        self.end = self.clock.now()  # the end of the period (run's days)

    # --- the event queue -----------------------------------------------------------------
    def at(self, when: datetime, kind: str, payload: Any = None) -> None:
        """Schedule ``kind`` at ``when``."""
        self.counter += 1
        heapq.heappush(self.queue, (when, self.counter, kind, payload))

    def run(self, start: datetime, days: int, tickets: int, progress: Callable[[int], None] | None = None,
            settle_days: int = 0) -> Report:
        """Play ``tickets`` requests over ``days`` days from ``start``; return what happened.

        With ``settle_days``, no request arrives after the period, but staff, customers, timers
        and the worker go on for up to that many days, until every ticket has ended.
        """
        began = time.monotonic()
        self.clock = engine_clock.FrozenClock(start)
        with engine_clock.thread_clock(self.clock):  # only this thread lives in the past: a web UI may serve meanwhile
            with self.db.transaction(write=False) as session:
                catalogue = Catalogue.load(session)
            if not catalogue.models:
                raise InvalidInput("the catalogue is empty: load it first (aftersales demo --no-serve)")
            self._lean_stock()
            first_day = start.astimezone(business_timezone()).date()
            for n, when in enumerate(arrival_times(self.params, self.draw, first_day, days, tickets), start=1):
                if when >= start:
                    self.at(when, "arrive", new_profile(self.params, catalogue, self.seed, n, first_day))
            self.end = start + timedelta(days=days)
            self.at(start + self._worker_step(), "worker")
            with _made_in_this_thread(self.ours):
                self._play(self.end + timedelta(days=settle_days), progress)
        self.report.seconds += time.monotonic() - began
        return self.report

    def settle(self, days: int, progress: Callable[[int], None] | None = None) -> Report:
        """Go on after :meth:`run`'s period (which ended with tickets open) for up to ``days`` more days
        with the same queue, clock and runtime, until every ticket has ended; return what happened in all."""
        began = time.monotonic()
        with engine_clock.thread_clock(self.clock), _made_in_this_thread(self.ours):
            self._play(self.end + timedelta(days=days), progress)
        self.report.seconds += time.monotonic() - began
        return self.report

    def _play(self, until: datetime, progress: Callable[[int], None] | None) -> None:
        """Handle the queue's events before ``until`` (after the period, only while a ticket is open), then
        pass the worker once more, refresh every fact and count the tickets."""
        clock, end = self.clock, self.end
        while self.queue and self.queue[0][0] < until:
            when, _, kind, payload = heapq.heappop(self.queue)
            if when >= end and kind == "worker":
                if not self._open_instances():
                    break  # settled: every ticket of the history has ended
                self._deliver_backorders()
            if when > clock.now():
                if progress:
                    progress(int((when - clock.now()).total_seconds()))
                clock.set(when)
            getattr(self, f"_on_{kind}")(payload)
        if progress and end > clock.now():
            progress(int((end - clock.now()).total_seconds()))
        clock.set(max(end, clock.now()))
        self._on_worker(None, again=False)
        refresh(self.db, clock.now(), max_batches=10_000)
        self._count()

    def _deliver_backorders(self) -> None:
        """While settling, suppliers deliver what is still on back-order (goods-in of each open order)."""
        with self.db.transaction(write=False) as session:
            orders = session.execute(select(Backorder.sku, Backorder.warehouse, func.sum(Backorder.quantity))
                                     .where(Backorder.status == "open")
                                     .group_by(Backorder.sku, Backorder.warehouse)).all()
        for sku, warehouse, quantity in orders:
            self._on_restock((sku, warehouse, int(quantity)))

    def _open_instances(self) -> int:
        with self.db.transaction(write=False) as session:
            return session.scalar(select(func.count()).select_from(Instance).where(
                Instance.id.in_(list(self.profiles)), Instance.status.not_in(("completed", "cancelled")))) or 0

    def _worker_step(self) -> timedelta:
        return timedelta(minutes=float(self.params.get("worker_minutes", 60)))

    # --- events ----------------------------------------------------------------------------
    def _on_arrive(self, profile: Profile) -> None:
        self.report.requests += 1
        outcomes, replies = self.params["outcomes"], self.params["customer_replies"]
        instance_id = self._start(profile)
        if instance_id is None or profile.repeat_of is not None:
            return
        now = engine_clock.now()
        if profile.draw.chance(outcomes["repeat_contact"]["share"]):
            later = now + timedelta(hours=profile.draw.lognormal(replies["repeat_contact"]["hours"]))
            if profile.draw.chance(0.5):  # through a channel that knows the ticket: the open ticket hears it
                self.at(later, "message", (instance_id, "customer_contact", {
                    "channel": profile.channel, "fault": "Any news about my ticket? Still waiting."}))
            else:  # as a new request, which registration recognises as a repeat contact
                self.at(later, "arrive", repeat_profile(self.params, profile, 1_000_000 + profile.number))
        if profile.draw.chance(outcomes["cancelled"]):
            later = now + timedelta(hours=profile.draw.lognormal(replies["cancel"]["hours"]))
            self.at(later, "message", (instance_id, "customer_cancel", {"reason": "No longer needed"}))

    def _start(self, profile: Profile) -> int | None:
        data = {**profile.intake(), "customer_tier": profile.customer["tier"]}  # as a channel system sends it
        try:
            with self.db.transaction() as session:
                started = self.runtime.start(session, "after_sales", data, actor="intake")
        except AftersalesError as exc:
            self.report.skipped.append(f"request {profile.number}: {exc.message}")
            return None
        self.profiles[started.instance_id] = profile
        self._look_at(started.instance_id)
        return started.instance_id

    def _on_claim(self, task_id: str) -> None:
        actor = self._actor_for(task_id)
        if actor is None:
            return
        try:
            with self.db.transaction() as session:
                item = self.runtime.claim(session, task_id, actor)
                element, instance_id = item.element_id, item.instance_id
        except AftersalesError:
            return  # the task is gone (a timer or a cancellation took it away)
        profile = self.profiles.get(instance_id)
        spec = self.staff["handle_minutes"].get(element) or self.staff["handle_minutes"]["default"]
        minutes = (profile.draw if profile else self.draw).lognormal(spec)
        self.at(engine_clock.now() + timedelta(minutes=minutes), "complete", (task_id, actor))

    def _on_complete(self, payload: tuple[str, Actor]) -> None:
        task_id, actor = payload
        try:
            with self.db.transaction() as session:
                item = session.get(WorkItem, task_id)
                if item is None:
                    return
                instance = session.get(Instance, item.instance_id)
                assert instance is not None
                data = self._form(session, item, instance)
                self.runtime.complete_task(session, task_id, actor, data)
                instance_id = instance.id
        except AftersalesError as exc:
            self.report.skipped.append(f"{task_id}: {exc.message}")
            return
        self.report.tasks += 1
        self._look_at(instance_id)

    def _form(self, session: Any, item: WorkItem, instance: Instance) -> dict[str, Any]:
        if not item.form:
            return {}
        schema = forms.load_json_file(session, instance.deployment_id, item.form)
        return self.answers.form(item.element_id, schema, self.profiles.get(instance.id), engine_clock.now())

    def _on_message(self, payload: tuple[int, str, dict[str, Any]]) -> None:
        instance_id, name, body = payload
        try:
            with self.db.transaction() as session:
                key = session.scalar(select(Instance.business_key).where(Instance.id == instance_id))
                if not key:
                    return
                self.runtime.deliver_message(session, name, key, body, sender=self._sender(name))
        except MessageNotCorrelated:
            return  # the ticket moved on (closed, or no longer waiting for this)
        except AftersalesError as exc:
            self.report.skipped.append(f"{name} to {instance_id}: {exc.message}")
            return
        self.report.messages += 1
        self._look_at(instance_id)

    def _sender(self, name: str) -> Sender:
        """The repair centre's warehouse books a parcel in; every other reply is the customer's own."""
        if name != "device_received":
            return Sender.customer()
        username = (self.staff["people"].get("warehouse") or ["sim.warehouse"])[0]
        return Sender.acting(self.actors.setdefault(username, Actor(username, frozenset({"warehouse"}))))

    def _on_restock(self, payload: tuple[str, str, int]) -> None:
        sku, warehouse, quantity = payload
        with self.db.transaction() as session:
            result = restock_and_notify(session, self.runtime, sku, warehouse, quantity, engine_clock.now())
        for ids in result["delivered"].values():
            for instance_id in ids:
                if instance_id in self.ours:
                    self._look_at(instance_id)

    def _on_worker(self, _payload: Any, again: bool = True) -> None:
        now = engine_clock.now()
        kpi_due = not again or self.next_kpi is None or now >= self.next_kpi
        if kpi_due:
            self.next_kpi = now + timedelta(minutes=float(self.params.get("kpi_minutes", KPI_MINUTES)))
            self.report.kpi_passes += 1
        Worker(self.db, self.runtime).run_once(skip_jobs=() if kpi_due else KPI_JOBS)
        self.report.worker_passes += 1
        with self.db.transaction(write=False) as session:
            touched = list(session.scalars(select(Instance.id).where(Instance.updated_at >= now)))
        for instance_id in touched:
            if instance_id in self.ours:
                self._look_at(instance_id)
        if again:
            self.at(now + self._worker_step(), "worker")

    # --- what an instance waits for --------------------------------------------------------
    def _look_at(self, instance_id: int) -> None:
        """Schedule staff for new ready tasks and customers for new message waits of an instance."""
        with self.db.transaction(write=False) as session:
            items = list(session.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)))
            subs = list(session.execute(select(MessageSubscription.task_id, MessageSubscription.message_name,
                                               MessageSubscription.correlation_key)
                                        .where(MessageSubscription.instance_id == instance_id)))
        now = engine_clock.now()
        for item in items:
            if item.task_id not in self.seen:
                self.seen.add(item.task_id)
                self.at(self._queue_until(item, now), "claim", item.task_id)
        for task_id, name, key in subs:
            if name in ALWAYS_OPEN or (task_id, name) in self.seen:
                continue
            self.seen.add((task_id, name))
            self._customer_reply(instance_id, name, key, now)

    def _queue_until(self, item: WorkItem, now: datetime) -> datetime:
        profile = self.profiles.get(item.instance_id)
        draw = profile.draw if profile else self.draw
        staff = self.staff
        on_the_line = profile is not None and profile.channel in staff["registered_while_on_the_line"]
        if item.element_id == "register_request" and on_the_line and self.calendar.between(now, now + timedelta(
                minutes=1)) > 0:
            return now + timedelta(seconds=draw.rng.randrange(30, 180))
        spec = staff["queue_hours"].get(item.role or "", staff["queue_hours"]["default"])
        factor = float(staff["priority_factor"].get(item.priority or "medium", 1.0))
        return self.calendar.add(now, draw.lognormal(spec) * factor * 3600)

    def _customer_reply(self, instance_id: int, name: str, key: str | None, now: datetime) -> None:
        profile = self.profiles.get(instance_id)
        if name == "parts_arrived":
            self._reorder(key, now)
            return
        spec = self.params["customer_replies"].get(name)
        if profile is None or spec is None or not profile.draw.chance(float(spec["answers"])):
            return  # the customer stays silent: the process's timers take over
        later = now + timedelta(hours=profile.draw.lognormal(spec["hours"]))
        self.at(later, "message", (instance_id, name, self._reply(profile, name, instance_id)))

    def _reply(self, profile: Profile, name: str, instance_id: int) -> dict[str, Any]:
        outcomes, draw = self.params["outcomes"], profile.draw
        if name == "quote_response":
            return {"accepted": draw.chance(outcomes["quote_accepted"]), "comment": ""}
        if name == "customer_confirmation":
            return {"solved": draw.chance(outcomes["confirmed_solved"]), "comment": ""}
        if name == "device_received":
            return {"condition": "good", "received_by": "Repair centre Shanghai"}
        with self.db.transaction(write=False) as session:  # customers notice a missed target
            breached = session.scalar(select(SlaClock.breached_at).where(SlaClock.instance_id == instance_id,
                                                                         SlaClock.kind == "resolution"))
        late = profile.rounds > 1 or breached is not None
        survey = self.params["survey"]
        mood = "late" if late else "on_time"
        return {"csat": int(draw.pick(survey["csat"][mood])), "nps": int(draw.pick(survey["nps"][mood])),
                "comment": "", "via": "web"}

    def _reorder(self, ticket: str | None, now: datetime) -> None:
        parts = self.params["parts"]
        with self.db.transaction(write=False) as session:
            orders = list(session.scalars(select(Backorder).where(Backorder.ticket_number == ticket,
                                                                  Backorder.status == "open")))
        for order in orders:
            eta = datetime.combine(order.eta, datetime.min.time(), business_timezone()).replace(hour=10)
            delay = timedelta(days=self.draw.lognormal(parts["delivery_days_after_eta"]))
            quantity = order.quantity + int(parts["reorder_extra"])
            self.at(max(now, eta.astimezone(UTC)) + delay, "restock", (order.sku, order.warehouse, quantity))

    # --- staff, stock, counts --------------------------------------------------------------
    def _actor_for(self, task_id: str) -> Actor | None:
        with self.db.transaction(write=False) as session:
            item = session.get(WorkItem, task_id)
            role = item.role if item is not None else None
            barred = self._barred(session, item) if item is not None else set()
        if item is None:
            return None
        role = role or "supervisor"
        # four eyes (engine.duties): not whoever did what this task checks; someone else when all of them did
        people = [p for p in self.staff["people"].get(role) or [f"sim.{role}"] if p not in barred] \
            or [f"sim.{role}.other"]
        username = self.draw.one_of(people)
        return self.actors.setdefault(username, Actor(username, frozenset({role})))

    def _barred(self, session: Any, item: WorkItem) -> set[str]:
        """Return who may not do the work item by its four-eyes rule (read from the runtime's spec cache)."""
        deployment_id = session.scalar(select(Instance.deployment_id).where(Instance.id == item.instance_id))
        rule = duties.rule_in(self.runtime.specs.get(session, deployment_id), item.element_id)
        return set(duties.excluded_by(session, item, rule))

    def _lean_stock(self) -> None:
        """Start the simulated period with the parameters' lean stock (parts nobody holds yet)."""
        ranges = self.params["parts"]["initial_stock"]
        with self.db.transaction() as session:
            for sku, warehouse in session.execute(select(Stock.sku, Stock.warehouse).where(Stock.reserved == 0)
                                                  .order_by(Stock.sku, Stock.warehouse)).all():
                low, high = ranges.get(warehouse, [0, 0])
                session.execute(update(Stock).where(Stock.sku == sku, Stock.warehouse == warehouse)
                                .values(available=self.draw.rng.randint(int(low), int(high))))

    def _count(self) -> None:
        from handlers.ticketing import Ticket

        mine = Ticket.instance_id.in_(list(self.profiles))
        with self.db.transaction(write=False) as session:
            self.report.tickets = session.scalar(select(func.count()).select_from(Ticket).where(mine)) or 0
            self.report.closed = session.scalar(select(func.count()).select_from(Ticket).where(
                mine, Ticket.status == "closed")) or 0
            self.report.open_incidents = session.scalar(select(func.count()).select_from(Incident).where(
                Incident.status != "resolved")) or 0


@contextmanager
def _made_in_this_thread(ids: set[int]) -> Iterator[None]:
    """Add to ``ids`` every instance this thread inserts while the block runs (other threads' are left out)."""
    thread = threading.get_ident()

    def made(_mapper: Any, _connection: Any, instance: Instance) -> None:
        if threading.get_ident() == thread:
            ids.add(instance.id)

    event.listen(Instance, "after_insert", made)
    try:
        yield
    finally:
        event.remove(Instance, "after_insert", made)


def simulate_history(db: Database, runtime: Runtime, tickets: int, days: int, seed: int = 1,
                     start: date | None = None, params: dict[str, Any] | None = None,
                     progress: Callable[[int], None] | None = None, settle_days: int = 0) -> Report:
    """Simulate ``tickets`` requests over ``days`` days (ending today unless ``start`` is given)."""
    first = start or (datetime.now(UTC).astimezone(business_timezone()).date() - timedelta(days=days))
    begin = datetime.combine(first, datetime.min.time(), business_timezone()).astimezone(UTC)
    return Simulation(db, runtime, params or load_parameters(), seed).run(begin, days, tickets, progress,
                                                                          settle_days)

