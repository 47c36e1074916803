"""Tasklist benchmark: 100,000 open work items in a SQLite file, queries and whole pages timed.

Run: python -m bench.tasklist [--items N] [--repeat N]. Prints p50/p95 per case and the
query plans; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from engine import clock
from engine.config import load_settings
from engine.db import Database
from engine.identity import Actor, create_user
from engine.migrate import upgrade
from engine.models import Instance, WorkItem
from engine.runtime import Runtime
from readmodels import Worklist, tasklist_page

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROLES = ("agent", "technician", "warehouse", "supervisor", "qa")
TASKS = {"agent": ["Register the request", "Respond to the customer", "Assist the customer remotely",
                   "Propose a solution"],
         "technician": ["Inspect the device on site", "Repair the device", "Inspect the repair"],
         "warehouse": ["Correct the parts list", "Chase the back-order", "Check the received device"],
         "supervisor": ["Approve the quote", "Handle the escalation"], "qa": ["Review the ticket"]}
STAGES = ("Resolve the request", "Diagnose the fault", "Quote and approval", "Supply the parts",
          "Repair and quality check", "Feedback and closure")
USERS = {"agent": [f"agent{i}" for i in range(40)], "technician": [f"tech{i}" for i in range(40)],
         "warehouse": ["wh0", "wh1"], "supervisor": ["sup0"], "qa": ["qa0"]}
PASSWORD = "bench-password-1"
LOGIN = {"agent": "agent0", "supervisor": "sup0"}


def seed(db: Database, items: int, rng: random.Random) -> None:
    """Insert ``items`` instances, each with one open work item, in batches."""
    batch = 5000
    for start in range(0, items, batch):
        instances, work = [], []
        for n in range(start, min(start + batch, items)):
            role = rng.choices(ROLES, weights=(45, 30, 10, 10, 5))[0]
            created = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 6))
            key = f"AS-{created:%Y%m%d}-{n:06d}"
            instances.append({"id": n + 1, "business_key": key, "deployment_id": 1, "process_id": "after_sales",
                              "status": "active", "started_at": created, "started_by": "bench",
                              "updated_at": created, "summary": {}, "projection": {},
                              "serializer_version": "bench", "audit_seq": 0, "audit_head": "", "version": 1})
            assignee = rng.choice(USERS[role]) if rng.random() < 0.3 else None
            work.append({"task_id": str(uuid.UUID(int=rng.getrandbits(128))), "instance_id": n + 1,
                         "business_key": key, "element_id": "task", "name": rng.choice(TASKS[role]),
                         "lane": role.title(), "role": role, "form": "form.schema.json",
                         "stage": rng.choice(STAGES), "priority": rng.choice(("urgent", "high", "medium", "low")),
                         "customer_tier": "vip" if rng.random() < 0.1 else "normal",
                         "channel": rng.choice(("hotline", "web", "chat", "email", "walk_in")),
                         "due_at": created + timedelta(hours=rng.choice((8, 24, 48, 72))),
                         "assignee": assignee, "claimed_at": created if assignee else None, "created_at": created})
        with db.transaction() as s:
            s.execute(insert(Instance), instances)
            s.execute(insert(WorkItem), work)


def deployment(db: Database) -> None:
    """Insert the one deployment row the instances point at."""
    with db.transaction() as s:
        s.execute(text("INSERT INTO deployment (id, name, version, content_hash, deployed_at, deployed_by, "
                       "activated_at, specs, warnings) VALUES (1, 'bench', 1, 'x', :t, 'bench', :t, '{}', '[]')"),
                  {"t": NOW.replace(tzinfo=None)})


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return p50 and p95 in milliseconds of ``repeat`` calls (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


CASES = [
    ("agent", Worklist(scope="mine")),
    ("agent", Worklist(scope="group")),
    ("agent", Worklist(scope="group", sort="priority")),
    ("agent", Worklist(scope="group", priority="urgent", customer_tier="vip")),
    ("agent", Worklist(scope="group", page=200)),
    ("supervisor", Worklist(scope="all")),
    ("supervisor", Worklist(scope="all", sort="created_at", descending=True)),
    ("supervisor", Worklist(scope="all", stage="Supply the parts", channel="web")),
    ("supervisor", Worklist(scope="all", sla="breached")),
    ("supervisor", Worklist(scope="all", ticket="AS-20260301")),
]
PAGES = [("agent", "/tasks?tab=mine"), ("agent", "/tasks?tab=group"), ("agent", "/tasks?tab=group&sort=priority"),
         ("supervisor", "/tasks?tab=all"), ("supervisor", "/tasks?tab=all&priority=urgent&channel=web"),
         ("supervisor", "/tasks?tab=all&page=500")]


def describe(wl: Worklist) -> str:
    """Say what a case asks for."""
    parts = [wl.scope, f"sort={wl.sort}{' desc' if wl.descending else ''}"]
    parts += [f"{k}={getattr(wl, k)}" for k in ("priority", "customer_tier", "stage", "channel", "sla", "ticket")
              if getattr(wl, k)]
    if wl.page > 1:
        parts.append(f"page={wl.page}")
    return " ".join(parts)


def main() -> None:
    """Seed, then time the tasklist queries and pages."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="also copy the seeded database file here")
    args = parser.parse_args()
    clock.set_clock(clock.FrozenClock(NOW))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'tasklist.sqlite3'}"
        upgrade(url)
        db = Database(url)
        with db.transaction() as s:
            for role, names in USERS.items():
                for name in names[:2]:
                    create_user(s, name, PASSWORD, [role])
        deployment(db)
        began = time.perf_counter()
        seed(db, args.items, random.Random(7))
        if args.keep:
            import shutil

            shutil.copyfile(Path(folder) / "tasklist.sqlite3", args.keep)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        print(f"seeded {args.items:,} open work items in {time.perf_counter() - began:.1f} s ({url})\n")

        print(f"{'tasklist_page() — rows, total, tab counts, filter choices':70} {'p50 ms':>8} {'p95 ms':>8} rows")
        for user, wl in CASES:
            actor = Actor(LOGIN[user], frozenset({user}))

            def run(wl: Worklist = wl, actor: Actor = actor) -> object:
                with db.transaction(write=False) as s:
                    return tasklist_page(s, actor, wl, NOW)

            page = run()
            p50, p95 = timed(run, args.repeat)
            print(f"{user:10} {describe(wl):59} {p50:8.1f} {p95:8.1f} {len(page.items)}/{page.total}")  # type: ignore[attr-defined]

        from web import create_app
        from web.services import Services

        services = Services(load_settings(database_url=url), db, Runtime(load_settings()))
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"}, services=services)
        print(f"\n{'GET through the test client (whole page, rendered)':70} {'p50 ms':>8} {'p95 ms':>8} bytes")
        clients = {}
        for user in ("agent", "supervisor"):
            client = app.test_client()
            client.post("/login", data={"username": LOGIN[user], "password": PASSWORD})
            clients[user] = client
        for user, url_path in PAGES:
            client = clients[user]

            def get(client=client, url_path=url_path) -> object:  # type: ignore[no-untyped-def]
                response = client.get(url_path)
                assert response.status_code == 200, response.status_code
                return response

            size = len(get().get_data())  # type: ignore[attr-defined]
            p50, p95 = timed(get, args.repeat)
            print(f"{user:10} {url_path:59} {p50:8.1f} {p95:8.1f} {size}")

        print("\nquery plans (SQLite EXPLAIN QUERY PLAN):")
        with db.engine.connect() as conn:
            for label, sql in (
                ("group tab, by due time", "SELECT * FROM work_item WHERE role IN ('agent') AND assignee IS NULL "
                                           "ORDER BY due_at IS NULL, due_at LIMIT 50"),
                ("my tasks", "SELECT * FROM work_item WHERE assignee = 'agent0' ORDER BY due_at LIMIT 50"),
                ("all, by due time", "SELECT * FROM work_item ORDER BY due_at IS NULL, due_at LIMIT 50"),
                ("group count", "SELECT count(*) FROM work_item WHERE role IN ('agent') AND assignee IS NULL"),
            ):
                plan = [re.sub(r"\s+", " ", row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
                print(f"  {label:24} {' | '.join(plan)}")
        db.dispose()


if __name__ == "__main__":
    main()
