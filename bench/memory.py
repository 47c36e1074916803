"""Peak memory of a worker and of a web process with many open instances (goal: flat).

Run: python -m bench.memory [--instances 100000]. Builds a SQLite file with N open
instances of the timer fixture (cloned from a real one with fresh task ids, so every
row is consistent), then measures the peak RSS of (a) a worker firing due timers and
(b) a web process serving tasklist and ticket pages, after a few and after many items:
flat means nothing beyond the bounded caches stays in memory. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import insert, select, update

from engine import clock
from engine.bundle import read_bundle
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.identity import create_user
from engine.migrate import upgrade
from engine.models import AuditEvent, Instance, Timer, WorkItem
from engine.runtime import Runtime

ROOT = Path(__file__).parent.parent
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _renumber(text: str, mapping: dict[str, str]) -> str:
    """Give every task id in ``text`` a fresh one, the same one wherever it repeats."""
    return UUID_RE.sub(lambda m: mapping.setdefault(m.group(0), str(uuid.uuid4())), text)


def build(url: str, n: int) -> None:
    """Create ``n`` open instances waiting on a human task and a boundary timer (simple fixture)."""
    upgrade(url)
    db, rt = Database(url), Runtime(load_settings(database_url=url))
    import tests.handlers_for_tests  # noqa: F401  (the fixture's service operator)

    with db.transaction() as s:
        deploy(s, read_bundle([ROOT / "tests" / "fixtures" / "simple"]), "bench")
        create_user(s, "agent", "bench-password", ["agent"])
        create_user(s, "sup", "bench-password", ["supervisor", "agent"])
        template_id = rt.start(s, "simple", {"channel": "web", "priority": "high"}, "B-0", "bench").instance_id
    with db.transaction(write=False) as s:
        template = s.get(Instance, template_id)
        item = s.scalars(select(WorkItem)).one()
        fields = {c.key: getattr(template, c.key) for c in Instance.__table__.columns if c.key not in ("id",)}
        item_fields = {c.key: getattr(item, c.key) for c in WorkItem.__table__.columns}
    t0 = time.perf_counter()
    batch = 2000
    for start in range(1, n, batch):
        rows, items = [], []
        for k in range(start, min(n, start + batch)):
            mapping: dict[str, str] = {}
            state = _renumber(fields["state"], mapping)
            projection = json.loads(_renumber(json.dumps(fields["projection"]), mapping))
            rows.append({**fields, "business_key": f"B-{k}", "state": state, "projection": projection,
                         "audit_seq": 0, "audit_head": ""})
            items.append({**item_fields, "task_id": mapping[item.task_id], "business_key": f"B-{k}"})
        with db.transaction() as s:
            ids = s.execute(insert(Instance).returning(Instance.id), rows).scalars().all()
            s.execute(WorkItem.__table__.insert(), [{**it, "instance_id": i} for it, i in zip(items, ids, strict=True)])
    with db.transaction() as s:
        s.execute(update(Instance).values(next_timer_at=clock.now()))  # every timer due now
        s.execute(Timer.__table__.delete())
        s.execute(AuditEvent.__table__.delete().where(AuditEvent.instance_id != template_id))
    print(f"built {n} open instances in {time.perf_counter() - t0:.1f} s")
    db.dispose()


def child_worker(url: str, counts: list[int]) -> None:
    """Fire due timers of many instances; print peak RSS (MiB) after each count."""
    from engine.worker import Worker

    clock.set_clock(clock.FrozenClock(clock.now() + __import__("datetime").timedelta(days=2)))
    db, rt = Database(url), Runtime(load_settings(database_url=url))
    worker, done = Worker(db, rt, batch_size=500), 0
    for target in counts:
        while done < target:
            done += worker.run_once().timers_fired
        print(f"worker {done} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", flush=True)


def child_web(url: str, counts: list[int]) -> None:
    """Serve tasklist pages and ticket pages; print peak RSS (MiB) after each count."""
    from web import create_app
    from web.services import Services

    services = Services.from_settings(load_settings(database_url=url))
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, services=services)
    client = app.test_client()
    client.post("/login", data={"username": "sup", "password": "bench-password"})
    served, statuses = 0, Counter()
    for target in counts:
        while served < target:
            page = served % 2000
            statuses[client.get(f"/tasks?tab=group&page={page + 1}").status_code] += 1
            statuses[client.get(f"/api/v1/instances/{served + 1}").status_code] += 1
            served += 1
        print(f"web {served} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", flush=True)
    print(f"statuses {dict(statuses)}", file=sys.stderr)


def main() -> None:
    """Build the database, then measure a worker and a web process in their own processes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--only", choices=("worker", "web"), help="measure one kind of process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'memory.sqlite3'}"
        build(url, args.instances)
        for kind, counts in (("worker", [500, 2000, 5000]), ("web", [100, 400, 1000])):
            if args.only and kind != args.only:
                continue
            out = subprocess.run([sys.executable, "-m", "bench.memory", "--child", kind, url,
                                  ",".join(map(str, counts))], cwd=ROOT, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{kind} child failed:\n{out.stderr[-3000:]}")
                continue
            rows = [line.split() for line in out.stdout.splitlines() if line.startswith(kind)]
            if out.stderr.strip():
                print(f"  {kind}: {out.stderr.strip().splitlines()[-1]}")
            print(f"{kind} peak RSS with {args.instances} open instances: "
                  + ", ".join(f"{r[2]} MiB after {r[1]}" for r in rows))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, url, counts = sys.argv[2], sys.argv[3], [int(c) for c in sys.argv[4].split(",")]
        (child_worker if kind == "worker" else child_web)(url, counts)
    else:
        main()
