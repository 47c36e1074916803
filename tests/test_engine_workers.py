"""Many worker processes share due timers: each fires exactly once, nothing is lost or stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.audit import verify
from engine.models import AuditEvent, Instance

ROOT = Path(__file__).parent.parent


def _workers(url: str, n: int, logs: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": url, "AFTERSALES_WORKER_POLL_SECONDS": "1", "PYTHONPATH": str(ROOT)}
    procs = []
    for i in range(n):
        with open(logs / f"worker-{i}.log", "wb") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", "cli", "worker"], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=log))
    return procs


def _log_tails(logs: Path) -> list[str]:
    return [p.read_text()[-1500:] for p in sorted(logs.glob("worker-*.log"))]


@pytest.mark.slow
def test_four_workers_fire_five_hundred_due_timers_exactly_once(database, database_url, runtime, deploy_fixture,
                                                                 tmp_path):
    # Given 500 instances each waiting on a timer that is already due: more than two passes of all
    # four workers (a pass fires at most 50, engine/worker.py), so they claim side by side for the
    # whole run; the claims, not the count, are what is tested
    deploy_fixture("timers")
    total = 500
    for start in range(0, total, 100):
        with database.transaction() as s:
            for n in range(start, start + 100):
                runtime.start(s, "wait_a_second", {"n": n}, f"W-{n}", "load")
    with database.transaction(write=False) as s:
        assert s.scalar(select(func.count()).where(Instance.next_timer_at.is_not(None))) == total

    # When four worker processes run until no instance waits any more
    workers = _workers(database_url, 4, tmp_path)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            with database.transaction(write=False) as s:
                left = s.scalar(select(func.count()).where(Instance.status != "completed"))
            if left == 0:
                break
            time.sleep(1)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        codes = [w.wait(timeout=60) for w in workers]
    errors = _log_tails(tmp_path)

    # Then every timer fired exactly once, every instance completed, workers stopped cleanly
    assert left == 0, errors
    assert codes == [0, 0, 0, 0], errors
    with database.transaction(write=False) as s:
        fired = s.execute(select(AuditEvent.instance_id, func.count()).where(AuditEvent.kind == "timer.fired")
                          .group_by(AuditEvent.instance_id)).all()
        assert len(fired) == total
        assert {count for _, count in fired} == {1}
        assert verify(s).ok


def test_worker_stops_on_sigterm_after_its_current_pass(database_url, database, tmp_path):
    [worker] = _workers(database_url, 1, tmp_path)
    log = tmp_path / "worker-0.log"
    deadline = time.monotonic() + 120  # importing the CLI takes seconds on a loaded machine
    while "worker running" not in log.read_text() and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # one poll: the worker is between passes or in one
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, _log_tails(tmp_path)
