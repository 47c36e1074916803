"""Engine benchmark: persisted throughput vs raw SpiffWorkflow, persistence cost, statements.

Run: python -m bench.engine [--instances N] [--backends sqlite,postgresql]. One run prints
every figure next to its target, on a SQLite file and on a throw-away PostgreSQL server
(started the way the tests start theirs). Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select

from bench.models import auto15, loop
from engine import clock, store
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.identity import Actor, create_user
from engine.lint import lint_bundle
from engine.migrate import upgrade
from engine.models import Instance, InstanceState, WorkItem
from engine.runtime import Runtime
from engine.spiff import AftersalesScriptEngine, new_workflow
from engine.trigger import Trigger

AGENT = Actor("agent", frozenset({"agent"}))
DATA = {"amount": 7, "labels": ["a", "b"]}
STAFF = (("agent", "ann"), ("technician", "tom"), ("warehouse", "wes"), ("supervisor", "sue"), ("qa", "quinn"))


class InMemoryServices:
    """Calls handlers without a database (the raw SpiffWorkflow baseline)."""

    def invoke(self, task, operator, arguments):  # type: ignore[no-untyped-def]
        from engine.registry import get_handler

        return get_handler(operator).func(**arguments)


def run_in_memory(spec, subs) -> None:  # type: ignore[no-untyped-def]
    """Run one instance to the end in memory, completing user tasks with no data."""
    wf = new_workflow(spec, subs)
    wf.task_tree.data.update(DATA)
    wf.script_engine = AftersalesScriptEngine(InMemoryServices())  # type: ignore[arg-type]
    wf.do_engine_steps()
    while not wf.is_completed():
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.run()
        wf.do_engine_steps()


def run_persisted(db: Database, rt: Runtime, process_id: str) -> None:
    """Run one instance to the end through the engine, one transaction per trigger."""
    with db.transaction() as s:
        instance_id = rt.start(s, process_id, dict(DATA), None, "agent").instance_id
    while True:
        with db.transaction() as s:
            item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).first()
            if item is None:
                return
            rt.complete_task(s, item.task_id, AGENT, {})


def throughput(db: Database, rt: Runtime, bundle, process_id: str, n: int  # type: ignore[no-untyped-def]
               ) -> tuple[float, float, float, float]:
    """Return instances/s persisted and in memory by the clock, then the same per second of this
    process's CPU time (best of three rounds each, to tame a busy machine; the CPU figures do not
    move with other processes' load, but leave PostgreSQL's own work out)."""
    result = lint_bundle(bundle)
    spec, subs = result.specs[process_id], {k: v for k, v in result.specs.items() if k != process_id}
    for _ in range(3):
        run_in_memory(spec, subs)
        run_persisted(db, rt, process_id)
    mem, persisted, mem_cpu, persisted_cpu = [], [], [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            run_in_memory(spec, subs)
        mem.append(n / (time.perf_counter() - t0))
        mem_cpu.append(n / (time.process_time() - c0))
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            run_persisted(db, rt, process_id)
        persisted.append(n / (time.perf_counter() - t0))
        persisted_cpu.append(n / (time.process_time() - c0))
    return max(persisted), max(mem), max(persisted_cpu), max(mem_cpu)


def commit_cost(db: Database, rt: Runtime, process_id: str, n: int) -> tuple[float, float, float]:
    """Run ``n`` persisted cases; return ms per case in all, ms per case inside the driver's COMMIT,
    and the commits per case. The commits are the floor that durability puts under the ratio."""
    dialect = db.engine.dialect
    original = dialect.do_commit
    spent, count = [0.0], [0]

    def timed(dbapi_connection: Any) -> None:
        t0 = time.perf_counter()
        original(dbapi_connection)
        spent[0] += time.perf_counter() - t0
        count[0] += 1

    dialect.do_commit = timed  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            run_persisted(db, rt, process_id)
        total = time.perf_counter() - t0
    finally:
        del dialect.do_commit
    return total * 1000 / n, spent[0] * 1000 / n, count[0] / n


class Meter:
    """Count statements per database and time persistence (Trigger.finish + commit)."""

    finish_seconds: list[float] = []
    finish_cpu: list[float] = []
    save_seconds: list[float] = []
    _installed = False

    def __init__(self, db: Database) -> None:
        self.statements = 0
        event.listen(db.engine, "before_cursor_execute", self._count)
        if not Meter._installed:
            original = Trigger.finish

            def timed(trigger: Trigger) -> None:
                t0, c0 = time.perf_counter(), time.process_time()
                original(trigger)
                Meter.finish_seconds.append(time.perf_counter() - t0)
                Meter.finish_cpu.append(time.process_time() - c0)

            Trigger.finish = timed  # type: ignore[method-assign]
            original_save = store.save

            def timed_save(*args: Any) -> None:
                t0 = time.perf_counter()
                original_save(*args)
                Meter.save_seconds.append(time.perf_counter() - t0)

            store.save = timed_save  # type: ignore[assignment]
            Meter._installed = True

    def _count(self, *args: object) -> None:
        self.statements += 1


def state_bytes(session, instance_id: int) -> int:  # type: ignore[no-untyped-def]
    """Return the characters of an instance's state log (full document and deltas)."""
    bodies = session.scalars(select(InstanceState.body).where(InstanceState.instance_id == instance_id))
    return sum(len(b) for b in bodies)


def persistence_at_sizes(db: Database, rt: Runtime, meter: Meter, sizes: list[int]
                         ) -> dict[int, tuple[float, float, float, float, int, int, float]]:
    """Return {completed tasks: (median ms, mean ms of finish+commit, median ms, mean ms of the state save
    alone, statements per completion, state chars, median ms of this process's CPU time in finish+commit)}."""
    with db.transaction() as s:
        instance_id = rt.start(s, "looping", {}, None, "agent").instance_id
    out: dict[int, tuple[float, float, float, float, int, int, float]] = {}
    completed = 0

    def complete() -> None:
        with db.transaction() as s:
            item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
        with db.transaction() as s:
            rt.complete_task(s, item.task_id, AGENT, {})

    for size in sorted(sizes):
        while completed < size:
            complete()
            completed += 3  # step, count, gateway
        samples, saves, stmts, cpu = [], [], [], []
        for _ in range(20):
            with db.transaction() as s:
                item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
            Meter.finish_seconds.clear()
            Meter.finish_cpu.clear()
            Meter.save_seconds.clear()
            before = meter.statements
            with db.transaction() as s:
                rt.complete_task(s, item.task_id, AGENT, {})
                t_commit, c_commit = time.perf_counter(), time.process_time()
            commit = time.perf_counter() - t_commit
            samples.append(Meter.finish_seconds[0] + commit)
            cpu.append(Meter.finish_cpu[0] + time.process_time() - c_commit)
            saves.append(Meter.save_seconds[0])
            stmts.append(meter.statements - before)
            completed += 3
        with db.transaction(write=False) as s:
            chars = state_bytes(s, instance_id)
        out[size] = (statistics.median(samples) * 1000, statistics.mean(samples) * 1000,
                     statistics.median(saves) * 1000, statistics.mean(saves) * 1000,
                     int(statistics.median(stmts)), chars, statistics.median(cpu) * 1000)
    return out


class WarmDesk:
    """The process tests' desk, but with the instance cache kept warm between triggers (as in production)."""

    def __new__(cls, db: Database, rt: Runtime, frozen: Any, staff: dict[str, Actor]) -> Any:
        from tests.process.driver import Desk

        class _Desk(Desk):
            def trigger(self, action):  # type: ignore[no-untyped-def]
                with self.database.transaction() as session:
                    return action(session)

        return _Desk(db, rt, frozen, staff)


def field_repair(desk: Any, n: int) -> None:
    """Take one customer (their own phone and washer) along the field-repair route."""
    case = desk.open_case().register(customer={"phone": f"+86 138 1000 {n:04d}", "email": f"c{n}@example.com"},
                                     product={"serial_number": f"WMF80-B{n:04d}"})
    case.diagnose().propose().answer_quote(True)
    case.repair().inspect_repair(passed=True).confirm(True).answer_survey(csat=5, nps=9)
    assert case.status == "completed", case.status


def after_sales_figures(db: Database, rt: Runtime, meter: Meter, cases: int) -> tuple[float, float, int, int]:
    """Drive the real after_sales process along its field-repair route (intake, diagnosis on site,
    quote accepted, repair, inspection, confirmation, survey) ``cases`` times; return
    (engine share of trigger time, persistence ms per trigger, triggers, statements per trigger)."""
    frozen = clock.FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    previous = clock.set_clock(frozen)
    try:
        staff = {}
        with db.transaction() as s:
            for role, name in STAFF:
                create_user(s, name, "bench-password", [role])
                staff[role] = Actor(name, frozenset({role}))
        desk = WarmDesk(db, rt, frozen, staff)
        desk.deploy()
        field_repair(desk, 0)  # warm-up: specs, caches
        original = type(desk).trigger
        spent = {"total": 0.0, "persist": 0.0, "triggers": 0, "statements": 0}

        def timed(self, action):  # type: ignore[no-untyped-def]
            Meter.finish_seconds.clear()
            before = meter.statements
            t0 = time.perf_counter()
            with self.database.transaction() as session:
                result = action(session)
                t_commit = time.perf_counter()
            end = time.perf_counter()
            spent["total"] += end - t0
            spent["persist"] += sum(Meter.finish_seconds) + (end - t_commit)
            spent["triggers"] += 1
            spent["statements"] += meter.statements - before
            return result

        type(desk).trigger = timed  # type: ignore[method-assign]
        try:
            for n in range(cases):
                field_repair(desk, n + 1)
        finally:
            type(desk).trigger = original  # type: ignore[method-assign]
    finally:
        clock.set_clock(previous)
    n = int(spent["triggers"])
    share = (spent["total"] - spent["persist"]) / spent["total"]
    return share, spent["persist"] / n * 1000, n, round(spent["statements"] / n)


def api_statements(db: Database, rt: Runtime, meter: Meter) -> tuple[int, list[str]]:
    """Complete an auto15 task through ``POST /api/v1/tasks/<id>/complete`` with an API key; return
    the statements of the request (key lookup, the trigger, the follow-up listing) and their first words."""
    from engine.apikeys import create_key
    from web import create_app
    from web.services import Services

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "INTAKE_PROCESS": "auto15"},
                     services=Services(load_settings(database_url=db.url), db, rt))
    with db.transaction() as s:
        _, token = create_key(s, "bench", ["tasks:read", "tasks:write"], ["agent"], by="bench")
        iid = rt.start(s, "auto15", dict(DATA), None, "agent").instance_id
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[str] = []

    def remember(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()[:3])[:60])

    counts = []
    for _ in range(2):  # the first request also writes the key's last use
        with db.transaction() as s:
            item = s.scalars(select(WorkItem).where(WorkItem.instance_id == iid)).one()
        seen.clear()
        event.listen(db.engine, "before_cursor_execute", remember)
        response = client.post(f"/api/v1/tasks/{item.task_id}/complete", json={"data": {}}, headers=headers)
        event.remove(db.engine, "before_cursor_execute", remember)
        assert response.status_code == 200, response.get_data(as_text=True)
        counts.append(len(seen))
    return counts[-1], seen


@contextmanager
def backend(name: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database on ``name`` (a throw-away server for PostgreSQL)."""
    if name == "sqlite":
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        upgrade(url)
        yield url
        return
    from tests.support.postgres import create_database, running_postgres

    with running_postgres(folder / "pg") as admin_url:
        url = create_database(admin_url, "bench")
        upgrade(url)
        yield url


def figure(label: str, value: float, target: str, fmt: str = "8.2f") -> None:
    """Print one figure next to its target."""
    print(f"  {label:<58}: {value:{fmt}}   (target {target})")


def bench_backend(name: str, url: str, instances: int, cases: int) -> None:
    """Print every engine figure on one database."""
    db = Database(url)
    rt = Runtime(load_settings(database_url=url))
    with db.transaction() as s:
        create_user(s, "agent", "bench-password", ["agent"])
        deploy(s, auto15(), "bench")
        deploy(s, loop(), "bench")
    meter = Meter(db)
    title = {"sqlite": "SQLite file", "postgresql": "PostgreSQL"}[name]
    print(f"== {title} ==")
    persisted, mem, persisted_cpu, mem_cpu = throughput(db, rt, auto15(), "auto15", instances)
    print(f"auto15 (15 automatic steps, 3 user tasks), {instances} instances x best of 3:")
    print(f"  persisted {persisted:.1f} instances/s, raw SpiffWorkflow in memory {mem:.1f} instances/s; per CPU "
          f"second of this process {persisted_cpu:.1f} and {mem_cpu:.1f}")
    figure("persisted / in-memory", persisted / mem, ">= 0.6")
    figure("  the same in CPU time (steady on a busy machine; no server)", persisted_cpu / mem_cpu, ">= 0.6")
    case_ms, commit_ms, commits = commit_cost(db, rt, "auto15", instances)
    mem_ms = 1000 / mem
    print(f"  of a persisted case's {case_ms:.2f} ms, {commit_ms:.2f} ms are inside its {commits:.0f} COMMITs "
          f"(one per trigger and per read); in memory a case takes {mem_ms:.2f} ms")
    figure("  ceiling with the commits alone (no other persistence)", mem_ms / (mem_ms + commit_ms), "-")
    with db.transaction(write=False) as s:
        ids = list(s.scalars(select(Instance.id).where(Instance.process_id == "auto15")))
        sizes = [state_bytes(s, i) for i in ids]
    print(f"  state characters per finished instance (full document + deltas): {statistics.median(sizes):.0f}")
    with db.transaction() as s:
        iid = rt.start(s, "auto15", dict(DATA), None, "agent").instance_id
    with db.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == iid)).one()
    before = meter.statements
    with db.transaction() as s:
        rt.complete_task(s, item.task_id, AGENT, {})
    figure("SQL statements, one completion (5 automatic steps follow)", meter.statements - before, "<= 7", "8d")

    count, seen = api_statements(db, rt, meter)
    figure("SQL statements, one API completion (key, trigger, listing)", count, "<= 15", "8d")
    print("    " + "; ".join(seen))

    figures = persistence_at_sizes(db, rt, meter, [10, 200])
    (med10, mean10, smed10, smean10, st10, b10, cpu10) = figures[10]
    (med200, mean200, smed200, smean200, st200, b200, cpu200) = figures[200]
    print("persistence per trigger (state save + derived rows + audit and roll-ups + commit), loop instance,"
          " 20 triggers from each size on:")
    for label, med, mean, smed, smean, st, size in (("~10", med10, mean10, smed10, smean10, st10, b10),
                                                    ("~200", med200, mean200, smed200, smean200, st200, b200)):
        print(f"  at {label:>4} completed tasks: median {med:6.2f} ms, mean {mean:6.2f} ms; state save alone "
              f"median {smed:5.2f} ms, mean {smean:5.2f} ms; {st} statements; state log {size} chars")
    figure("ratio 200/10, median", med200 / med10, "<= 1.3")
    print(f"  CPU time of this process in finish+commit, median: {cpu10:.2f} ms at ~10, {cpu200:.2f} ms at ~200")
    figure("  the same in CPU time (steady on a busy machine; no server)", cpu200 / cpu10, "<= 1.3")
    figure("ratio 200/10, mean (full rewrites included)", mean200 / mean10, "<= 1.3")
    figure("ratio 200/10, state save alone, mean", smean200 / smean10, "<= 1.3")

    share, persist_ms, triggers, per_trigger = after_sales_figures(db, rt, meter, cases)
    print(f"after_sales, field-repair route x {cases} (intake to survey, {triggers} triggers, warm cache):")
    print(f"  persistence {persist_ms:.2f} ms per trigger, {per_trigger} statements per trigger "
          f"(handlers' own rows included)")
    figure("engine work / whole trigger (persistence overhead left out)", share, ">= 0.6")
    print(f"instance cache: {rt.instances.hits} hits, {rt.instances.misses} misses")
    db.dispose()


def main() -> None:
    """Print the engine's figures on each backend."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    clock.set_clock(clock.SystemClock())
    from engine.registry import load_handlers

    load_handlers()
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        with tempfile.TemporaryDirectory() as tmp, backend(name, Path(tmp)) as url:
            bench_backend(name, url, args.instances, args.cases)


if __name__ == "__main__":
    main()
