"""Engine benchmark: persisted throughput vs raw SpiffWorkflow, persistence cost, statements.

Run: python -m bench.engine [--instances N]. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select

from bench.models import auto15, loop
from engine import clock
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


def fresh_db(folder: Path, name: str) -> Database:
    """Create and migrate a SQLite file database."""
    url = f"sqlite:///{folder / name}"
    upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        create_user(s, "agent", "bench-password", ["agent"])
    return db


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


def throughput(db: Database, rt: Runtime, bundle, process_id: str, n: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Return instances/s persisted and in memory."""
    result = lint_bundle(bundle)
    spec, subs = result.specs[process_id], {k: v for k, v in result.specs.items() if k != process_id}
    for _ in range(3):
        run_in_memory(spec, subs)
    t0 = time.perf_counter()
    for _ in range(n):
        run_in_memory(spec, subs)
    mem = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(n):
        run_persisted(db, rt, process_id)
    persisted = n / (time.perf_counter() - t0)
    return persisted, mem


class Meter:
    """Count statements and time persistence (Trigger.finish + commit)."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        event.listen(db.engine, "before_cursor_execute", self._count)
        self.finish_seconds: list[float] = []
        original = Trigger.finish

        def timed(trigger: Trigger) -> None:
            t0 = time.perf_counter()
            original(trigger)
            self.finish_seconds.append(time.perf_counter() - t0)

        Trigger.finish = timed  # type: ignore[method-assign]

    def _count(self, *args: object) -> None:
        self.statements += 1


def persistence_at_sizes(db: Database, rt: Runtime, meter: Meter,
                         sizes: list[int]) -> dict[int, tuple[float, int, int]]:
    """Return {completed tasks: (median ms of finish+commit, statements per completion, state bytes)}."""
    with db.transaction() as s:
        instance_id = rt.start(s, "looping", {}, None, "agent").instance_id
    out: dict[int, tuple[float, int, int]] = {}
    target = sorted(sizes)
    completed = 0
    while target:
        samples, stmts = [], []
        for _ in range(15):
            with db.transaction() as s:
                item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
            meter.finish_seconds.clear()
            before = meter.statements
            t0 = time.perf_counter()
            with db.transaction() as s:
                rt.complete_task(s, item.task_id, AGENT, {})
                t_commit = time.perf_counter()
            commit = time.perf_counter() - t_commit
            samples.append(meter.finish_seconds[0] + commit)
            stmts.append(meter.statements - before)
            _ = t0
            completed += 3  # step, count, gateway
        if completed >= target[0]:
            with db.transaction(write=False) as s:
                size = state_bytes(s, instance_id)
            out[target.pop(0)] = (statistics.median(samples) * 1000, int(statistics.median(stmts)), size)
    return out


def state_bytes(session, instance_id: int) -> int:  # type: ignore[no-untyped-def]
    """Return the characters of an instance's state log (full document and deltas)."""
    bodies = session.scalars(select(InstanceState.body).where(InstanceState.instance_id == instance_id))
    return sum(len(b) for b in bodies)


def main() -> None:
    """Print the engine's figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=100)
    args = parser.parse_args()
    clock.set_clock(clock.SystemClock())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_db(folder, "bench.sqlite3")
        rt = Runtime(load_settings(database_url=db.url))
        with db.transaction() as s:
            deploy(s, auto15(), "bench")
            deploy(s, loop(), "bench")
        meter = Meter(db)
        persisted, mem = throughput(db, rt, auto15(), "auto15", args.instances)
        print(f"auto15 (15 automatic steps, 3 user tasks), {args.instances} instances, SQLite file:")
        print(f"  persisted       : {persisted:8.1f} instances/s")
        print(f"  raw in memory   : {mem:8.1f} instances/s")
        print(f"  ratio           : {persisted / mem:8.2f}   (target >= 0.6)")
        with db.transaction(write=False) as s:
            sizes = [state_bytes(s, i) for i in s.scalars(select(Instance.id).where(Instance.process_id == "auto15"))]
        print(f"  serialized bytes per finished instance: {statistics.median(sizes):.0f}")

        meter.statements = 0
        with db.transaction() as s:
            iid = rt.start(s, "auto15", dict(DATA), None, "agent").instance_id
        with db.transaction() as s:
            item = s.scalars(select(WorkItem).where(WorkItem.instance_id == iid)).one()
        before = meter.statements
        with db.transaction() as s:
            rt.complete_task(s, item.task_id, AGENT, {})
        print(f"  SQL statements per user task completion (5 automatic steps follow): "
              f"{meter.statements - before}   (target <= 12)")

        figures = persistence_at_sizes(db, rt, meter, [10, 200])
        (ms10, st10, b10), (ms200, st200, b200) = figures[10], figures[200]
        print("persistence per trigger (save + derived rows + audit + commit), loop instance:")
        print(f"  at  ~10 completed tasks: {ms10:6.2f} ms, {st10} statements, state {b10} bytes")
        print(f"  at ~200 completed tasks: {ms200:6.2f} ms, {st200} statements, state {b200} bytes")
        print(f"  ratio 200/10           : {ms200 / ms10:6.2f}   (target <= 1.3)")
        print(f"instance cache: {rt.instances.hits} hits, {rt.instances.misses} misses")
        db.dispose()


if __name__ == "__main__":
    main()
