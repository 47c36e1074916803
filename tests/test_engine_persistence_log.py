"""The state log: each trigger writes what it changed, and reading it back gives the whole workflow."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select, text

from engine import spiff, state_log, store
from engine.bundle import Bundle
from engine.db import Database
from engine.deploy import deploy
from engine.errors import ConcurrentUpdate, NotFound
from engine.identity import Actor
from engine.migrate import upgrade
from engine.models import Instance, InstanceState, WorkItem

ROOT = Path(__file__).parent.parent
AGENT = Actor("ann", frozenset({"agent"}))
LOOP = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_loop"
  targetNamespace="http://example.com/loop">
<bpmn:process id="looping" name="Loop" isExecutable="true">
<bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>step</bpmn:flowNodeRef></bpmn:lane>
</bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="init" name="Init"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:script>count = 0</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="step" name="Step"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming>
<bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
<bpmn:scriptTask id="inc" name="Count"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
<bpmn:script>count = count + 1</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="gw" name="Done?" default="f_again"><bpmn:incoming>f4</bpmn:incoming>
<bpmn:outgoing>f_done</bpmn:outgoing><bpmn:outgoing>f_again</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:endEvent id="end"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init" />
<bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="step" />
<bpmn:sequenceFlow id="f3" sourceRef="step" targetRef="inc" />
<bpmn:sequenceFlow id="f4" sourceRef="inc" targetRef="gw" />
<bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="end">
<bpmn:conditionExpression>count &gt;= 1000000</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="step" />
</bpmn:process></bpmn:definitions>'''
#: statements of one completion on the loop: BEGIN, work item, instance lock, work item out and in,
#: audit event, instance row, state row (plus whatever plug-in roll-ups add to the audit write)
ENGINE_STATEMENTS_PER_COMPLETION = 8


def loop_bundle() -> Bundle:
    """A human task in a loop: every completion adds tasks to one growing instance."""
    return Bundle("loop", {"loop.bpmn": LOOP.encode()})


@pytest.fixture
def looping(database, runtime, make_user):
    """Deploy the loop and start one instance; return its id."""
    make_user("ann", "agent")
    with database.transaction() as s:
        deploy(s, loop_bundle(), "owner")
        return runtime.start(s, "looping", {}, None, "ann").instance_id


def step(database: Database, runtime, instance_id: int) -> None:  # type: ignore[no-untyped-def]
    """Complete the loop's waiting task once."""
    with database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
        runtime.complete_task(s, item.task_id, AGENT, {})


def rows_of(database: Database, instance_id: int) -> list[tuple[int, str, int]]:
    """Return the instance's state rows as (seq, kind, characters)."""
    with database.transaction(write=False) as s:
        return [(r.seq, r.kind, len(r.body)) for r in s.execute(
            select(InstanceState.seq, InstanceState.kind, InstanceState.body)
            .where(InstanceState.instance_id == instance_id).order_by(InstanceState.seq))]


def count_in(workflow) -> int:  # type: ignore[no-untyped-def]
    """Return the loop's count as its waiting task holds it."""
    [ready] = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == "step"]
    return ready.data["count"]


def reread(database: Database, runtime, instance_id: int) -> dict:  # type: ignore[no-untyped-def]
    """Return the full serialization of the workflow restored from the database alone."""
    with database.transaction(write=False) as s:
        return json.loads(spiff.dump_workflow(store.read_workflow(s, s.get(Instance, instance_id), runtime.specs)))


def test_state_after_many_triggers_reads_back_as_the_full_serialization(database, runtime, looping):
    # Given a loop instance pushed through 60 completions, its workflow cached in memory
    for _ in range(60):
        step(database, runtime, looping)
    with database.transaction(write=False) as s:
        version = s.get(Instance, looping).version
    cached = runtime.instances.take(looping, version)
    assert cached is not None

    # When its state is read back from the database alone
    stored = reread(database, runtime, looping)

    # Then it is the full serialization of the workflow that ran, the count is right,
    # and the log was rewritten in full at least once on the way (compaction)
    assert stored == json.loads(spiff.dump_workflow(cached))
    assert count_in(cached) == 60
    rows = rows_of(database, looping)
    assert rows[0][1] == state_log.FULL and rows[0][0] > 1
    assert all(kind == state_log.DELTA for _, kind, _ in rows[1:])


def test_a_trigger_writes_the_tasks_it_changed_not_the_whole_tree(database, runtime, looping):
    # Given an instance with a long history
    for _ in range(40):
        step(database, runtime, looping)
    with database.transaction(write=False) as s:
        document = store.state_document(s, s.get(Instance, looping))

    # When one more task is completed (and once more if that one rewrote the log in full)
    for _ in range(2):
        before = rows_of(database, looping)[-1][0]
        step(database, runtime, looping)
        with database.transaction(write=False) as s:
            last = s.scalars(select(InstanceState).where(InstanceState.instance_id == looping)
                             .order_by(InstanceState.seq.desc()).limit(1)).one()
        if last.kind == state_log.DELTA:
            break

    # Then one delta row is added, naming a handful of the instance's 120-odd tasks
    assert (last.seq, last.kind) == (before + 1, state_log.DELTA)
    written = json.loads(last.body)["tasks"][state_log.TOP]
    assert len(document["tasks"]) > 120
    assert 0 < len(written) <= 12


def test_the_log_is_rewritten_in_full_before_it_outgrows_the_document(database, runtime, looping):
    # When the instance runs on for many triggers
    for _ in range(50):
        step(database, runtime, looping)
        rows = rows_of(database, looping)

        # Then after every trigger the deltas add up to no more than the full document before them
        # (or the floor below which a small instance is not worth rewriting)
        assert rows[0][1] == state_log.FULL
        assert sum(size for _, _, size in rows[1:]) <= max(rows[0][2], state_log.MIN_LOG_CHARS)
        assert len(rows) <= state_log.MAX_DELTAS + 1


def test_a_trigger_on_a_cold_cache_continues_the_log(database, runtime, looping):
    # Given an instance with deltas in its log, and a runtime that has never seen it
    for _ in range(5):
        step(database, runtime, looping)
    runtime.instances.clear()

    # When a trigger loads it from the log and completes the next task
    step(database, runtime, looping)

    # Then the log goes on where it was and reads back complete
    rows = rows_of(database, looping)
    assert [seq for seq, _, _ in rows] == list(range(rows[0][0], rows[-1][0] + 1))
    with database.transaction(write=False) as s:
        workflow = store.read_workflow(s, s.get(Instance, looping), runtime.specs)
    assert count_in(workflow) == 6


#: the save's write of the instance row: alone (SQLite) or feeding the state row's INSERT (PostgreSQL)
_WRITES_INSTANCE = re.compile(r"\s*(UPDATE instance\b|INSERT INTO instance_state\b|WITH\b.*\bUPDATE instance\b)", re.S)


def test_a_write_that_lost_a_race_changes_nothing_and_says_so(database, runtime, looping, request):
    # Given a trigger under way, when another writer commits a newer version of the instance
    # between its load and its save (as a writer that skipped the row lock would)
    for _ in range(3):
        step(database, runtime, looping)
    rows = rows_of(database, looping)
    with pytest.raises(ConcurrentUpdate, match="changed by another request"), database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == looping)).one()

        raced: list[bool] = []

        def other_writer(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            # just before the save writes the instance row (on PostgreSQL with its state row)
            if not raced and _WRITES_INSTANCE.match(statement):
                raced.append(True)
                cursor.connection.execute(f"UPDATE instance SET version = version + 1 WHERE id = {int(looping)}")

        event.listen(database.engine, "before_cursor_execute", other_writer)
        request.addfinalizer(lambda: event.remove(database.engine, "before_cursor_execute", other_writer))

        # When it saves
        runtime.complete_task(s, item.task_id, AGENT, {})

    # Then it fails on the version check and not one state row was written
    assert rows_of(database, looping) == rows
    runtime.instances.clear()
    with database.transaction(write=False) as s:
        assert count_in(store.read_workflow(s, s.get(Instance, looping), runtime.specs)) == 3


def test_a_missing_state_row_is_reported_not_guessed(database, runtime, looping):
    # Given an instance whose newest state row has gone
    for _ in range(3):
        step(database, runtime, looping)
    with database.transaction() as s:
        last = s.scalar(select(Instance.state_seq).where(Instance.id == looping))
        s.execute(text("DELETE FROM instance_state WHERE instance_id = :i AND seq = :s"), {"i": looping, "s": last})
    runtime.instances.clear()

    # Then reading it names the instance and the rows it found instead of running on old state
    with database.transaction(write=False) as s, pytest.raises(
            NotFound, match=f"stored state of instance {looping} is incomplete: it should end at row {last}"):
        store.read_workflow(s, s.get(Instance, looping), runtime.specs)


def test_a_completion_takes_a_fixed_number_of_engine_statements(database, runtime, looping):
    # Given an instance with a short and then a long history
    counts = []
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    for n in range(45):
        with database.transaction(write=False) as s:
            item = s.scalars(select(WorkItem).where(WorkItem.instance_id == looping)).one()
        statements.clear()
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            with database.transaction() as s:
                runtime.complete_task(s, item.task_id, AGENT, {})
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        if n in (3, 44):
            engine_only = [st for st in statements if "element_" not in st]
            counts.append(len(engine_only))

    # Then a completion costs the same few statements however long the history
    assert counts[0] == counts[1] <= ENGINE_STATEMENTS_PER_COMPLETION


def test_a_database_with_whole_states_migrates_to_the_log(tmp_path, runtime, make_user, database):
    # Given an instance run on today's schema, its whole state as the old schema held it
    if not database.url.startswith("sqlite"):
        pytest.skip("the copy between schemas is done with sqlite3")
    make_user("ann", "agent")
    with database.transaction() as s:
        deploy(s, loop_bundle(), "owner")
        instance_id = runtime.start(s, "looping", {}, None, "ann").instance_id
    for _ in range(4):
        step(database, runtime, instance_id)
    with database.transaction(write=False) as s:
        document = store.state_document(s, s.get(Instance, instance_id))
    new_path = Path(database.url.removeprefix("sqlite:///"))
    old_path = tmp_path / "old.sqlite3"
    upgrade(f"sqlite:///{old_path}", "0011")
    database.dispose()
    with sqlite3.connect(old_path) as old:
        old.execute("ATTACH DATABASE ? AS new", (str(new_path),))
        for table in ("role", "app_user", "user_role", "deployment", "deployment_file", "process_definition",
                      "instance", "work_item", "audit_event"):
            old_cols = [r[1] for r in old.execute(f"PRAGMA main.table_info({table})")]
            new_cols = {r[1] for r in old.execute(f"PRAGMA new.table_info({table})")}
            cols = ", ".join(c for c in old_cols if c in new_cols)
            if table == "instance":
                old.execute(f"INSERT INTO main.instance ({cols}, state) SELECT {cols}, ? FROM new.instance",
                            (json.dumps(document),))
            elif cols:
                old.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM new.{table}")
        old.commit()

    # When the old database is migrated
    upgrade(f"sqlite:///{old_path}")

    # Then its state is one full row, and the instance runs on from it
    migrated = Database(f"sqlite:///{old_path}")
    runtime.instances.clear()
    try:
        assert rows_of(migrated, instance_id) == [(1, state_log.FULL, len(json.dumps(document)))]
        step(migrated, runtime, instance_id)
        runtime.instances.clear()
        with migrated.transaction(write=False) as s:
            workflow = store.read_workflow(s, s.get(Instance, instance_id), runtime.specs)
        assert count_in(workflow) == 5
    finally:
        migrated.dispose()


@pytest.mark.slow
def test_sigkill_while_the_log_grows_leaves_the_last_committed_state(database, database_url, runtime, looping,
                                                                      tmp_path):
    # Given a child process completing the loop's task as fast as it can, logging each commit
    log = tmp_path / "committed.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = ("import sys\n"
            "from sqlalchemy import select\n"
            "from engine.config import load_settings\n"
            "from engine.db import Database\n"
            "from engine.identity import Actor\n"
            "from engine.models import WorkItem\n"
            "from engine.runtime import Runtime\n"
            "url, path, iid = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
            "db, rt = Database(url), Runtime(load_settings(database_url=url))\n"
            "ann = Actor('ann', frozenset({'agent'}))\n"
            "with open(path, 'a') as log:\n"
            "    while True:\n"
            "        with db.transaction() as s:\n"
            "            item = s.scalars(select(WorkItem).where(WorkItem.instance_id == iid)).one()\n"
            "            rt.complete_task(s, item.task_id, ann, {})\n"
            "        log.write('done\\n'); log.flush()\n")
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", code, database_url, str(log), str(looping)],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        start = len(log.read_text().splitlines()) if log.exists() else 0
        while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < start + 25):
            if child.poll() is not None:
                pytest.fail(child.stderr.read().decode()[-2000:])
            time.sleep(0.05)
        # When it is killed without warning in the middle of its work
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)

    # Then the state read back holds every logged completion (and at most the one not yet logged)
    done = len(log.read_text().splitlines())
    assert done >= 75
    runtime.instances.clear()
    with database.transaction(write=False) as s:
        count = count_in(store.read_workflow(s, s.get(Instance, looping), runtime.specs))
    assert count in (done, done + 1)


def test_the_save_check_tells_a_stale_piece_from_the_same_state_written_in_another_order(
        database, runtime, looping):
    # Given a loop instance after a few completions, its workflow and the store's memory of what it wrote
    for _ in range(3):
        step(database, runtime, looping)
    with database.transaction(write=False) as s:
        version = s.get(Instance, looping).version
    workflow = runtime.instances.take(looping, version)
    saved = state_log.saved_of(workflow)
    assert state_log.matches_full(workflow, saved)
    number, (scope, key, text, name) = next(iter(saved.tasks.items()))
    shell = saved.shells[state_log.TOP]

    # When one task's text is written with its keys in another order, the same JSON
    saved.tasks[number] = (scope, key, json.dumps(dict(reversed(json.loads(text).items()))), name)
    # Then the check still finds the whole state there
    assert state_log.matches_full(workflow, saved)

    # And it finds a stale task, a stale shell or a task missing from the memory
    saved.tasks[number] = (scope, key, text.replace(f'"id": "{name}"', '"id": "00000000-0000-0000-0000-000000000000"'),
                           name)
    assert not state_log.matches_full(workflow, saved)
    saved.tasks[number] = (scope, key, text, name)
    saved.shells[state_log.TOP] = shell[:-1] + ', "stale": true}'
    assert not state_log.matches_full(workflow, saved)
    saved.shells[state_log.TOP] = shell
    del saved.tasks[number]
    assert not state_log.matches_full(workflow, saved)


def test_a_claim_keeps_the_cached_workflow_for_the_completion_that_follows(database, runtime, looping):
    # Given a loop instance whose workflow the runtime holds in its cache
    step(database, runtime, looping)
    misses, hits = runtime.instances.misses, runtime.instances.hits

    # When a claim is rolled back, and then a claim and a completion of the task each commit
    with pytest.raises(RuntimeError), database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == looping)).one()
        runtime.claim(s, item.task_id, AGENT)
        raise RuntimeError("the request failed after the claim")
    with database.transaction() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == looping)).one()
        runtime.claim(s, item.task_id, AGENT)
    step(database, runtime, looping)

    # Then the completion took the cached workflow (the claim moved the row's version on, not the state)
    assert (runtime.instances.misses, runtime.instances.hits) == (misses, hits + 1)
    # and what it wrote reads back as the workflow that ran
    with database.transaction(write=False) as s:
        version = s.get(Instance, looping).version
    cached = runtime.instances.take(looping, version)
    assert count_in(cached) == 2 and reread(database, runtime, looping) == json.loads(spiff.dump_workflow(cached))
