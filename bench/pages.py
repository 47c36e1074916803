"""Server time of every staff page at 100,000 instances and about 1,000,000 audit events.

Run: python -m bench.pages [--instances N] [--events N] [--repeat N] [--postgres URL | --databases sqlite,postgresql].

1. A fresh database gets processes/ deployed, the demo catalogue and a short simulated history
   played through the real engine (:mod:`simulation.history`): those instances, with every row
   the engine and the handlers wrote for them, are the templates.
2. The templates are cloned in bulk until there are ``--instances`` instances, short ones
   (waiting at their first tasks) weighted so that the trail comes near ``--events`` events.
   A clone is its template's rows with new ids, task ids, ticket numbers and stream names, and
   its audit chain re-hashed, so ``aftersales audit verify`` holds for every clone. Rows are
   copied as the database stores them (read and written as text), nothing is made up.
3. Every staff page is requested through the real Flask app with its test client, on
   different instances each time, and p50/p95 server times are printed next to the target, with
   the median CPU time the app itself spent per request (the database server's is not in it: on a
   loaded machine it moves less than the wall clock), the number of SQL statements a request sent
   and, for a PostgreSQL server on this machine, the mean CPU time its server processes spent per
   request (read from /proc; ``-`` when they cannot be read).

Prints figures; asserts nothing but that each page answers 200.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, func, select

ROOT = Path(__file__).parent.parent
TARGET_MS = 300.0
PASSWORD = "bench-password-1"
#: what changes from a template to its clone, wherever it appears (text, JSON, the workflow)
TOKENS = re.compile(r"(?P<uuid>[0-9a-f]{8})(?=-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
                    r"|(?<=AS-\d{8}-)(?P<ticket>\d{5})\b|(?<=instance:)(?P<stream>\d+)")
#: integer columns that point at rows of a cloned table
REFERENCES = {"instance_id": "instance", "ticket_id": "ticket", "customer_id": "ticket_customer",
              "product_id": "ticket_product", "outbox_id": "notify_outbox"}
KEYED = ("business_key", "ticket_number")
#: tables never cloned: reference data, system streams and the fact tables refreshed by jobs
SKIP = {"instance", "audit_event", "audit_stream", "handler_call", "kpi_daily", "kpi_daily_team",
        "kpi_task_daily", "kpi_state", "kpi_alert", "privacy_request", "kpi_rca"}


# --- templates: a real history ---------------------------------------------------------------
def prepare(url: str, tickets: int, days: int) -> None:
    """Migrate, deploy processes/, load the catalogue, simulate a short history, add staff."""
    from engine.bundle import read_bundle
    from engine.config import load_settings
    from engine.db import Database
    from engine.deploy import deploy
    from engine.identity import create_user
    from engine.migrate import upgrade
    from engine.runtime import Runtime
    from handlers.demo import load_catalogue
    from simulation.history import simulate_history

    upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        deploy(s, read_bundle([ROOT / "processes"], "aftersales"), "bench")
        load_catalogue(s, ROOT / "processes" / "data")
    report = simulate_history(db, Runtime(load_settings(database_url=url)), tickets, days, seed=11)
    with db.transaction() as s:
        create_user(s, "bench_agent", PASSWORD, ["agent"])
        create_user(s, "bench_boss", PASSWORD, ["admin", "process_owner", "auditor", "supervisor", "agent",
                                                "technician", "warehouse", "qa"])
    db.dispose()
    print(f"  templates: {report.requests} requests simulated over {days} days through the engine "
          f"({report.tasks} tasks done, {report.closed} tickets closed)")


# --- cloning ---------------------------------------------------------------------------------
@dataclass
class Template:
    """One template instance and every row that belongs to it, pre-split at the tokens."""

    id: int
    events: list[tuple[Any, ...]] = field(default_factory=list)  # (row parts, hash suffix parts)
    rows: dict[str, list[list[Any]]] = field(default_factory=lambda: defaultdict(list))
    instance: list[Any] = field(default_factory=list)


def _split(value: Any) -> Any:
    """Split a text at its tokens (a tuple of parts), or leave any other value as it is."""
    if not isinstance(value, str) or not TOKENS.search(value):
        return value
    parts: list[str] = []
    last = 0
    for match in TOKENS.finditer(value):
        parts += [value[last:match.start()], (match.lastgroup, match.group())]
        last = match.end()
    parts.append(value[last:])
    return tuple(parts)


class Cloner:
    """Reads the templates' rows as text and writes clones of them in bulk."""

    def __init__(self, url: str) -> None:
        from engine.db import Base
        from engine.registry import load_handlers

        load_handlers()
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.tables = {t.name: t for t in Base.metadata.sorted_tables}
        self.conn = self._connect()
        self.strides: dict[str, int] = {}
        self.offsets: dict[str, int] = {}

    def _connect(self) -> Any:
        if self.sqlite:
            import sqlite3

            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("PRAGMA synchronous=OFF")
            return conn
        import psycopg

        conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        return conn

    def _select(self, table: str, where: str = "") -> tuple[list[str], list[tuple[Any, ...]]]:
        columns = [c.name for c in self.tables[table].columns]
        if self.sqlite:
            listing = ", ".join(f'"{c}"' for c in columns)
        else:
            listing = ", ".join(f'"{c}"' if isinstance(self.tables[table].c[c].type, Integer) else f'"{c}"::text'
                                for c in columns)
        return columns, list(self.conn.execute(f'SELECT {listing} FROM "{table}" {where}').fetchall())

    def load(self) -> list[Template]:
        """Read every template instance with its rows."""
        columns, rows = self._select("instance", "ORDER BY id")
        templates = {row[0]: Template(row[0], instance=[_split(v) for v in row]) for row in rows}
        self.instance_columns = columns
        keys = {row[columns.index("business_key")]: row[0] for row in rows if row[columns.index("business_key")]}
        self.strides["instance"] = max(templates) + 1
        owner: dict[tuple[str, Any], int] = {}
        self.columns: dict[str, list[str]] = {}
        for name, table in self.tables.items():
            if name in SKIP:
                continue
            cols = [c.name for c in table.columns]
            link = "instance_id" if "instance_id" in cols else next((k for k in KEYED if k in cols), None)
            if link is None:
                continue
            self.columns[name] = cols
            _, found = self._select(name)
            for row in found:
                value = row[cols.index(link)]
                template = value if link == "instance_id" else keys.get(value)
                if "ticket_id" in cols and ("ticket", row[cols.index("ticket_id")]) in owner:
                    # a row of a ticket goes with its ticket (a repeat request's contact names an
                    # earlier ticket: cloned with another instance it would point at no ticket)
                    template = owner[("ticket", row[cols.index("ticket_id")])]
                if template in templates:
                    templates[template].rows[name].append([_split(v) for v in row])
                    if "id" in cols:
                        owner[(name, row[cols.index("id")])] = template
            if "id" in cols and isinstance(table.c["id"].type, Integer):
                self.strides[name] = max((r[cols.index("id")] for r in found), default=0) + 1
        for name, link, via in (("ticket_customer", "id", "customer_id"), ("ticket_product", "id", "product_id"),
                                ("notify_delivery", "outbox_id", "id")):
            cols = [c.name for c in self.tables[name].columns]
            self.columns[name] = cols
            _, found = self._select(name)
            parent = "ticket" if name != "notify_delivery" else "notify_outbox"
            pcols = self.columns[parent]
            for template in templates.values():
                wanted = {r[pcols.index(via)] for r in template.rows.get(parent, [])}
                template.rows[name] += [[_split(v) for v in r] for r in found if r[cols.index(link)] in wanted]
            self.strides[name] = max((r[cols.index("id")] for r in found), default=0) + 1
        ecols, events = self._select("audit_event", "WHERE instance_id IS NOT NULL ORDER BY instance_id, seq")
        self.event_columns = ecols
        self.strides["audit_event"] = max((e[0] for e in events), default=0) + 1
        at, data = ecols.index("at"), ecols.index("data")
        for e in events:
            moment = datetime.fromisoformat(e[at])
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            body = json.dumps([e[ecols.index("seq")], moment.isoformat(timespec="microseconds"),
                               e[ecols.index("actor")], e[ecols.index("kind")], e[ecols.index("task_id")],
                               e[ecols.index("element_id")], json.loads(e[data])],
                              sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)[1:]
            templates[e[ecols.index("instance_id")]].events.append(([_split(v) for v in e], _split(body)))
        return list(templates.values())

    def _mapper(self, clone: int) -> Any:
        """Return how a token of a template reads in clone number ``clone``."""
        prefix, ticket, offset = f"{clone:08x}", f"{clone:06d}", clone * self.strides["instance"]

        def token(part: tuple[str, str]) -> str:
            kind, text = part
            return prefix if kind == "uuid" else ticket if kind == "ticket" else str(int(text) + offset)
        return token

    @staticmethod
    def _join(value: Any, token: Any) -> Any:
        if not isinstance(value, tuple):
            return value
        return "".join(token(p) if i % 2 else p for i, p in enumerate(value))

    def clone_rows(self, template: Template, clone: int) -> dict[str, list[tuple[Any, ...]]]:
        """Return the rows of one clone of ``template``, table by table."""
        token = self._mapper(clone)
        out: dict[str, list[tuple[Any, ...]]] = {}
        prev = "0" * 64
        stream = f"instance:{template.id + clone * self.strides['instance']}"
        ecols = self.event_columns
        events = []
        for parts, body in template.events:
            row = [self._join(v, token) for v in parts]
            row[0] += clone * self.strides["audit_event"]
            row[ecols.index("instance_id")] += clone * self.strides["instance"]
            row[ecols.index("prev_hash")] = prev
            prev = hashlib.sha256(f'["{prev}","{stream}",{self._join(body, token)}'.encode()).hexdigest()
            row[ecols.index("hash")] = prev
            events.append(tuple(row))
        out["audit_event"] = events
        inst = [self._join(v, token) for v in template.instance]
        cols = self.instance_columns
        inst[0] += clone * self.strides["instance"]
        if template.events:
            inst[cols.index("audit_head")] = prev
        out["instance"] = [tuple(inst)]
        for name, rows in template.rows.items():
            cols = self.columns[name]
            keys = [c.name for c in self.tables[name].primary_key.columns]
            cloned = []
            for parts in rows:
                row = [self._join(v, token) for v in parts]
                for i, col in enumerate(cols):
                    if row[i] is None:
                        continue
                    if col == "id" and name in self.strides:
                        row[i] += clone * self.strides[name]
                    elif col in REFERENCES and REFERENCES[col] in self.strides and col != "id":
                        row[i] += clone * self.strides[REFERENCES[col]]
                    elif col == "serial_number" or (keys == [col] and isinstance(parts[i], str)):
                        row[i] = f"{row[i]}-{clone}"  # a key of its own (RMA number …) or unique with the model
                cloned.append(tuple(row))
            out[name] = cloned
        return out

    def write(self, batch: dict[str, list[tuple[Any, ...]]]) -> None:
        """Insert a batch of cloned rows, parents first."""
        order = [t for t in self.tables if t in batch]
        for name in order:
            rows = batch[name]
            if not rows:
                continue
            cols = (self.instance_columns if name == "instance" else self.event_columns if name == "audit_event"
                    else self.columns[name])
            quoted = ", ".join(f'"{c}"' for c in cols)
            if self.sqlite:
                self.conn.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({", ".join("?" * len(cols))})',
                                      rows)
            else:
                with self.conn.cursor().copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)

    def fill(self, templates: list[Template], instances: int, events: int, rng: random.Random) -> tuple[int, int]:
        """Clone templates until there are ``instances`` instances; return instances and events written."""
        have = len(templates)
        have_events = sum(len(t.events) for t in templates)
        todo = max(0, instances - have)
        per = (events - have_events) / todo if todo else 0
        short = [t for t in templates if len(t.events) <= per] or sorted(templates, key=lambda t: len(t.events))[:3]
        # the short ones (waiting at a first task) take the share that brings the mean near ``per``
        mean_all = sum(len(t.events) for t in templates) / len(templates)
        mean_short = sum(len(t.events) for t in short) / len(short)
        share = min(0.9, max(0.0, (mean_all - per) / (mean_all - mean_short))) if mean_all > mean_short else 0.0
        written_events = have_events
        if self.sqlite:
            self.conn.execute("BEGIN")

        batch: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for clone in range(1, todo + 1):
            template = rng.choice(short) if rng.random() < share else rng.choice(templates)
            for name, rows in self.clone_rows(template, clone).items():
                batch[name] += rows
            written_events += len(template.events)
            if clone % 2000 == 0 or clone == todo:
                self.write(batch)
                batch = defaultdict(list)
                print(f"\r  cloned {clone:,}/{todo:,} instances, {written_events:,} audit events", end="",
                      flush=True)
        if self.sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("ANALYZE")
        else:
            for name in ("instance", "audit_event", *self.columns):
                if name in self.strides:  # the next id the engine takes comes after the clones'
                    self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                      f"(SELECT max(id) FROM \"{name}\"))")
            self.conn.execute("ANALYZE")
        print()
        return have + todo, written_events

    def close(self) -> None:
        """Close the bulk connection."""
        self.conn.close()


def rebuild_rollups(url: str) -> None:
    """Bring derived roll-ups up to date with the cloned rows: the KPI dashboard's daily roll-ups
    (the cloned ticket and task facts summed), and the elements' figures (when the code has them)."""
    from sqlalchemy import inspect

    from analytics.facts import kpi_settings
    from analytics.rollup import roll_up
    from engine.db import Database

    db = Database(url)
    began = time.perf_counter()
    with db.transaction() as s:
        roll_up(s, kpi_settings(s), None)
    print(f"  KPI daily roll-ups summed from the cloned facts in {time.perf_counter() - began:.1f} s")
    try:
        from engine import rollup_elements
    except ImportError:
        db.dispose()
        return
    if not inspect(db.engine).has_table("element_figure"):
        db.dispose()
        return
    began = time.perf_counter()
    with db.transaction() as s:
        rollup_elements.rebuild_totals(s)
    db.dispose()
    print(f"  element roll-ups summed from the cloned runs in {time.perf_counter() - began:.1f} s")


# --- measuring -------------------------------------------------------------------------------
def server_cpu_ms(pids: set[int]) -> float | None:
    """Return the CPU ms the server processes ``pids`` have spent so far (None: not readable here)."""
    import os

    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def timed(get: Any, paths: list[str], statements: list[int],
          pids: set[int] | None = None) -> tuple[float, float, float, float, float | None]:
    """Return p50 and p95 in ms over ``paths``, the median CPU ms this process spent per request
    (the app's own work: the database server's is not in it) and the median number of SQL statements
    (one warm-up request first; 3 requests of a page that takes seconds, so that a slow page does not
    hold the run up for long). ``statements`` is the counter the database engine adds to; ``pids``:
    the server processes of the app's connections, whose mean CPU ms per request is returned last."""
    began = time.perf_counter()
    get(paths[0])
    if time.perf_counter() - began > 3:
        paths = paths[:3]
    samples, cpu, counts = [], [], []
    server_began = server_cpu_ms(pids) if pids else None
    for path in paths:
        statements[0] = 0
        began, used = time.perf_counter(), time.process_time()
        get(path)
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        counts.append(statements[0])
    server_ended = server_cpu_ms(pids) if server_began is not None and pids else None
    server = None if server_ended is None or server_began is None else (server_ended - server_began) / len(paths)
    samples.sort()
    return (statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))],
            statistics.median(cpu), statistics.median(counts), server)


def pages(url: str, repeat: int) -> list[tuple[str, list[str]]]:
    """Return each page to measure with the paths to request (different instances each time)."""
    from engine.db import Database
    from engine.models import Deployment, Instance, ProcessDefinition, WorkItem
    from handlers.ticketing import Ticket

    db = Database(url)
    with db.transaction(write=False) as s:
        def some(column: Any) -> list[Any]:
            return list(s.scalars(select(column).order_by(func.random()).limit(repeat)))

        ids, tasks, tickets = some(Instance.id), some(WorkItem.task_id), some(Ticket.number)
        dep = s.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1))
        process = s.scalar(select(ProcessDefinition.process_id).where(ProcessDefinition.deployment_id == dep,
                                                                      ProcessDefinition.process_id == "after_sales"))
    db.dispose()
    times = max(1, repeat)
    return [
        ("tasklist: my tasks", ["/tasks?tab=mine"] * times),
        ("tasklist: my group's", ["/tasks?tab=group"] * times),
        ("tasklist: all (supervisor)", ["/tasks?tab=all"] * times),
        ("tasklist: all, page 200", ["/tasks?tab=all&page=200"] * times),
        ("task page", [f"/tasks/{t}" for t in tasks]),
        ("ticket page", [f"/tickets/{t}" for t in tickets]),
        ("trace page", [f"/audit/instances/{i}" for i in ids]),
        ("trace data (trace.json)", [f"/audit/instances/{i}/trace.json" for i in ids]),
        ("heatmap page", [f"/owner/heatmap/{dep}/{process}"] * times),
        ("heatmap data (.json)", [f"/owner/heatmap/{dep}/{process}.json"] * times),
        ("dashboard", ["/dashboard/"] * times),
        ("dashboard data (data.json)", ["/dashboard/data.json"] * times),
        ("instances list", ["/audit/instances"] * times),
        ("instances list, filtered", ["/audit/instances?status=active&priority=high"] * times),
        ("instances list, page 100", ["/audit/instances?page=100"] * times),
        ("verify one instance", [f"/audit/verify?instance={i}" for i in ids]),
    ]


def measure(url: str, repeat: int, only: str = "") -> list[tuple[str, float, float]]:
    """Request every page (those whose label contains ``only``) through the real app; return p50/p95 per page."""
    from sqlalchemy import event

    from engine.config import load_settings
    from web import create_app
    from web.services import Services

    services = Services.from_settings(load_settings(database_url=url))
    statements = [0]

    @event.listens_for(services.db.engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        statements[0] += 1

    pids: set[int] = set()
    if services.db.engine.dialect.name == "postgresql":
        @event.listens_for(services.db.engine, "checkout")
        def _server(dbapi_conn: Any, *_: Any) -> None:
            pids.add(dbapi_conn.info.backend_pid)
    # TESTING skips the login's CSRF token; the heap is frozen as a served app's is
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench", "FREEZE_HEAP": True},
                     services=services)
    clients = {}
    for user in ("bench_agent", "bench_boss"):
        client = app.test_client()
        answer = client.post("/login", data={"username": user, "password": PASSWORD})
        assert answer.status_code in (302, 303), f"{user} could not sign in: {answer.status_code}"
        clients[user] = client
    out = []
    for label, paths in pages(url, repeat):
        if only and not any(word.strip() in label for word in only.split(",")):
            continue
        if not paths:
            print(f"  {label}: nothing to request (no such rows)")
            continue
        client = clients["bench_agent" if label.startswith("tasklist: my") else "bench_boss"]

        def get(path: str, client: Any = client) -> None:
            answer = client.get(path)
            if answer.status_code != 200:
                raise RuntimeError(f"{path} answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}")

        p50, p95, cpu, count, server = timed(get, paths, statements, pids)
        out.append((label, p50, p95))
        print(f"  {label:34} {p50:9.1f} {p95:9.1f} {TARGET_MS:7.0f}  {'ok  ' if p95 <= TARGET_MS else 'SLOW'}"
              f" {cpu:8.1f} {count:6.0f} {'-' if server is None else f'{server:8.1f}':>8}", flush=True)
    services.db.dispose()
    return out


@contextlib.contextmanager
def database(kind: str, given: str | None) -> Iterator[str]:
    """Yield the URL of a fresh database of ``kind`` (``given`` when one was named)."""
    if given:
        yield given
        return
    from bench.scale import database as fresh

    with fresh(kind) as url:
        yield url


def main() -> None:
    """Fill each database and print the page figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--events", type=int, help="audit events to aim at (default 10 per instance)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page")
    parser.add_argument("--tickets", type=int, default=40, help="requests simulated for the templates")
    parser.add_argument("--days", type=int, default=12, help="days the template history spans")
    parser.add_argument("--databases", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database to fill (implies it)")
    parser.add_argument("--url", help="a database to fill, or to measure again when it is already filled")
    parser.add_argument("--pages", default="", help="measure only pages whose label contains one of these "
                                                    "comma-separated words (e.g. dashboard)")
    parser.add_argument("--fill-only", action="store_true", help="fill the database, measure nothing")
    args = parser.parse_args()
    given = args.url or args.postgres
    kinds = [given.split(":")[0].split("+")[0]] if given else [k.strip() for k in args.databases.split(",")
                                                               if k.strip()]
    for kind in kinds:
        with database(kind, given) as url:
            if not filled(url):
                print(f"{kind}: filling {url.rsplit('@', 1)[-1]}")
                began = time.perf_counter()
                prepare(url, args.tickets, args.days)
                cloner = Cloner(url)
                templates = cloner.load()
                made, events = cloner.fill(templates, args.instances, args.events or 10 * args.instances,
                                           random.Random(3))
                cloner.close()
                rebuild_rollups(url)
                print(f"  {made:,} instances, {events:,} audit events in {time.perf_counter() - began:.0f} s")
            if args.fill_only:
                continue
            print(f"  {'page (server time, ms)':34} {'p50':>9} {'p95':>9} {'target':>7}       {'cpu p50':>8} "
                  f"{'SQL':>6} {'db cpu':>8}")
            measure(url, args.repeat, args.pages)


def filled(url: str) -> bool:
    """Tell whether ``url`` already holds a filled bench database (then it is only measured)."""
    from sqlalchemy import inspect, text

    from engine.db import Database

    db = Database(url)
    try:
        if not inspect(db.engine).has_table("instance"):
            return False
        with db.engine.connect() as conn:
            instances = conn.execute(text("SELECT count(*) FROM instance")).scalar() or 0
            events = conn.execute(text("SELECT count(*) FROM audit_event")).scalar() or 0
    finally:
        db.dispose()
    if instances:
        print(f"{url.rsplit('@', 1)[-1]}: {instances:,} instances, {events:,} audit events already there")
    return instances > 0

if __name__ == "__main__":
    main()
