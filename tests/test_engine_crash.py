"""Crash safety: a process killed with SIGKILL mid-work leaves every instance at its last commit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401
from engine import store
from engine.audit import events_for, verify
from engine.models import Instance

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_repeats_nothing(database, database_url, runtime, deploy_fixture,
                                                            make_user, tmp_path):
    # Given the simple process and a child process pushing instances along
    deploy_fixture("simple")
    make_user("ann", "agent")
    log = tmp_path / "committed.log"
    rng = random.Random(20261122)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_no in range(6):
        child = subprocess.Popen([sys.executable, "-m", "tests.crash_child", database_url, str(log), str(round_no)],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for_a_commit(child, log)  # a busy machine may take seconds just to import
        time.sleep(rng.uniform(0.5, 2.0))
        # When it is killed without warning, wherever it is
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]

    committed = [line.split() for line in log.read_text().splitlines() if line.strip()]
    assert len(committed) > 20, "the child did too little work to prove anything"
    started = {int(c[1]) for c in committed if c[0] == "start"}
    completed = {c[2] for c in committed if c[0] == "complete"}

    # Then every logged commit is in the database, the audit chains verify,
    # and the stored state agrees with the trail: each step exactly once
    runtime.instances.clear()
    with database.transaction(write=False) as s:
        assert verify(s).ok
        instances = list(s.scalars(select(Instance)))
        assert started <= {i.id for i in instances}
        seen_completed: set[str] = set()
        for inst in instances:
            events = events_for(s, inst.id)
            done = [e.task_id for e in events if e.kind in ("task.completed", "timer.fired")]
            assert len(done) == len(set(done)), f"a step of instance {inst.id} ran twice"
            seen_completed.update(done)
            workflow = store.read_workflow(s, inst, runtime.specs)
            in_state = {str(t.id) for t in workflow.get_tasks(state=TaskState.COMPLETED)
                        if t.task_spec.bpmn_id is not None}
            assert in_state == set(done), f"state and trail of instance {inst.id} disagree"
            assert all(workflow.get_task_from_id(UUID(t)) for t in done)
        assert completed <= seen_completed


def _wait_for_a_commit(child: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the child has logged one more committed trigger (or has died: then fail)."""
    before = len(log.read_text().splitlines()) if log.exists() else 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if child.poll() is not None:
            pytest.fail(child.stderr.read().decode()[-2000:] if child.stderr else "the child died")
        if log.exists() and len(log.read_text().splitlines()) > before:
            return
        time.sleep(0.05)
    pytest.fail("the child committed nothing in two minutes")
