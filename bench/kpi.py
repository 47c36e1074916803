"""KPI dashboard benchmark: the dashboard's queries at 10,000 and 1,000,000 tickets, and the ratio.

Run: python -m bench.kpi [--sizes 10000,1000000] [--databases sqlite,postgresql] [--repeat 5].

The facts are bulk-inserted, not simulated (the engine path is ``aftersales simulate``'s):
a block of 10,000 tickets drawn like real ones — a year of weekday- and office-hour-heavy
arrivals, the channel, fault, product-line and priority mixes of ``simulation.json``,
log-normal first-response and resolution times, surveys on a third, back-orders on a
sixth of the parts tickets — is inserted in multi-row batches, then copied up to the size
wanted by one ``INSERT … SELECT`` joined to a table of copy numbers (each copy its own
ticket ids and numbers, on the same days); every ticket gets its human tasks (register,
respond, and for most a diagnosis, a repair and a quality check) by ``INSERT … SELECT``
from the tickets; then the daily roll-ups are built. Prints p50/p95 per query at each size
(and of what a refresh batch does to the roll-ups: 200 changed tickets merged by delta — and,
for comparison, of rebuilding one day's roll-ups, which a refresh no longer does), the
1,000,000 / 10,000 ratio against the target, and each median and p90 the tiles show — read from the
histograms, with its error bound — beside the exact value from the facts; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from analytics.dashboard import chart_data, dashboard
from analytics.drift import drift
from analytics.facts import KpiTicket, kpi_settings, period_keys
from analytics.queries import Context, Drill, KpiFilter, backlog, grouped, handle_times, measures, tickets_behind
from analytics.rollup import by_delta, roll_up
from analytics.timings import exact_ticket_times, ticket_times
from engine.db import Database
from engine.migrate import upgrade
from simulation.workload import Draw, arrival_times, load_parameters

from .scale import database  # a fresh SQLite file or a throw-away PostgreSQL

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 31, 8, 0, tzinfo=UTC)
BLOCK = 10_000
#: the issue's target: a query at 1,000,000 tickets within this many times its time at 10,000
TARGET_RATIO = {"postgresql": 2.0, "sqlite": 4.0}
STEPS = [  # element, name, role, share of tickets that have it (per mille), waiting / working seconds scale
    ("register_request", "Register the request", "agent", 1000, 1800, 420),
    ("respond_to_customer", "Respond to the customer", "agent", 1000, 7200, 600),
    ("assist_remotely", "Assist the customer remotely", "agent", 450, 10800, 1100),
    ("inspect_on_site", "Inspect the device on site", "technician", 300, 86400, 4000),
    ("propose_solution", "Propose a solution", "agent", 300, 7200, 780),
    ("repair_device", "Repair the device", "technician", 250, 86400, 6000),
    ("inspect_repair", "Inspect the repair", "technician", 240, 86400, 1000),
    ("review_ticket_quality", "Review the ticket", "qa", 100, 172800, 800),
]


def block(params: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    """Draw one block of ticket facts over the year before NOW."""
    draw = Draw(seed)
    first = (NOW - timedelta(days=365)).date()
    rows = []
    for n, opened in enumerate(arrival_times(params, draw, first, 365, BLOCK), start=1):
        closed = opened < NOW - timedelta(days=10) or draw.chance(0.4)
        category = draw.pick(params["fault_categories"])
        response = draw.lognormal({"median": 4.75 * 3600, "p90": 26 * 3600})
        resolution = draw.lognormal({"median": 26 * 3600, "p90": 150 * 3600}) if closed else None
        parts = category == "hardware" and draw.chance(0.6)
        surveyed = closed and draw.chance(0.35)
        priority = draw.pick({"urgent": 5, "high": 15, "medium": 50, "low": 30})
        rows.append({
            "ticket_id": n, "number": f"AS-B-{n:07d}", "instance_id": n, "opened_at": opened,
            "closed_at": opened + timedelta(seconds=(resolution or 0) + 86400) if closed else None,
            **period_keys(opened), "channel": draw.pick(params["channels"]),
            "product_line": draw.pick(params["product_lines"]), "priority": priority,
            "tier": "vip" if draw.chance(0.1) else "normal", "fault_category": category,
            "status": "closed" if closed else "open", "outcome": "resolved" if closed else None,
            "stage": None if closed else draw.one_of(["Resolve the request", "Diagnose the fault",
                                                       "Supply the parts", "Repair and quality check"]),
            "first_response_at": opened + timedelta(seconds=response), "first_response_seconds": response,
            "response_due_at": None, "response_met": response < 24 * 3600,
            "resolved_at": opened + timedelta(seconds=resolution) if resolution else None,
            "resolution_seconds": resolution, "paused_seconds": 0.0,
            "resolution_met": None if resolution is None else resolution < 48 * 3600,
            "sla_breached": response > 24 * 3600, "fcr": closed and category == "usage" and draw.chance(0.8),
            "reopened": 1 if draw.chance(0.03) else 0, "contacts": 2 if draw.chance(0.12) else 1,
            "csat": int(draw.pick({"5": 62, "4": 26, "3": 6, "2": 3, "1": 3})) if surveyed else None,
            "nps": int(draw.pick({"10": 35, "9": 30, "8": 17, "7": 8, "5": 6, "2": 4})) if surveyed else None,
            "qa_score": float(draw.pick({"5": 45, "4": 40, "3": 15})) if closed and draw.chance(0.1) else None,
            "parts_needed": parts, "backordered": parts and draw.chance(0.15),
            "labour_seconds": 1800.0, "labour_cost": round(draw.lognormal({"median": 40, "p90": 200}), 2),
            "parts_cost": 120.0 if parts else 0.0, "handling_cost": 8.0, "refreshed_at": NOW})
    return rows


def seed(db: Database, size: int, params: dict[str, Any]) -> dict[str, float]:
    """Insert ``size`` tickets (and their tasks) and roll them up; return the seconds each step took."""
    took: dict[str, float] = {}
    began = time.perf_counter()
    rows = block(params, 7)
    columns = [c.name for c in KpiTicket.__table__.columns]
    with db.transaction() as s:
        for start in range(0, len(rows), 5000):  # multi-row INSERTs (insertmanyvalues), not one per ticket
            s.execute(insert(KpiTicket.__table__), rows[start:start + 5000])
    keep = ", ".join(c for c in columns if c not in ("ticket_id", "number", "instance_id"))
    copies = size // BLOCK
    if copies > 1:  # every copy in one statement: the block joined to a table of copy numbers
        with db.transaction() as s:
            s.execute(text("CREATE TABLE bench_copy (n INTEGER PRIMARY KEY)"))
            s.execute(text("INSERT INTO bench_copy (n) VALUES (:n)"), [{"n": n} for n in range(1, copies)])
            s.execute(text(f"INSERT INTO kpi_ticket (ticket_id, number, instance_id, {keep}) "
                           f"SELECT ticket_id + c.n * {BLOCK}, number || '-' || c.n, instance_id + c.n * {BLOCK}, "
                           f"{keep} FROM kpi_ticket CROSS JOIN bench_copy c WHERE ticket_id <= {BLOCK}"))
            s.execute(text("DROP TABLE bench_copy"))
    took["tickets"] = time.perf_counter() - began
    with db.transaction() as s:
        for n, (element, name, role, share, waiting, working) in enumerate(STEPS):
            s.execute(text(
                "INSERT INTO kpi_task (task_id, instance_id, ticket_id, process_id, element_id, name, role, actor, "
                "ready_at, claimed_at, completed_at, waiting_seconds, working_seconds, day, week, month, quarter, "
                "channel, product_line, priority) "
                "SELECT number || '/' || :n, instance_id, ticket_id, 'after_sales', :element, :name, :role, :role, "
                "opened_at, opened_at, opened_at, ((ticket_id % 10007) * 7919 % 1000) * :waiting / 500.0, "
                "((ticket_id % 10007) * 104729 % 1000) * :working / 500.0, day, week, month, quarter, channel, "
                "product_line, priority FROM kpi_ticket WHERE ((ticket_id % 10007) * 31 + :n * 17) % 1000 < :share"),
                {"n": n, "element": element, "name": name, "role": role, "share": share, "waiting": waiting,
                 "working": working})
    took["tasks"] = time.perf_counter() - began - took["tickets"]
    with db.transaction() as s:
        s.execute(text("ANALYZE"))
    began = time.perf_counter()
    with db.transaction() as s:
        roll_up(s, kpi_settings(s), None)
    took["roll-ups"] = time.perf_counter() - began
    with db.transaction() as s:
        s.execute(text("ANALYZE"))
    return took


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Return the wall p50 and p95 and the CPU p50 (this process's: SQLite's work, not PostgreSQL's) in ms of
    ``repeat`` calls, after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    wall.sort()
    return statistics.median(wall), wall[min(len(wall) - 1, int(len(wall) * 0.95))], statistics.median(cpu)


def cases(db: Database) -> list[tuple[str, Callable[[], object]]]:
    """Return the dashboard's queries, by name."""
    week = KpiFilter(period="week").bounded(NOW)
    quarter = KpiFilter(period="quarter", start=date(2026, 1, 1), end=NOW.date())
    hotline = KpiFilter(period="month", channel="hotline").bounded(NOW)
    team = KpiFilter(period="week", team="technician").bounded(NOW)

    def run(query: Callable[[Any, Context], object]) -> Callable[[], object]:
        def call() -> object:
            with db.transaction(write=False) as s:
                return query(s, Context.of(s, NOW))
        return call

    def write(change: Callable[[Any], object]) -> Callable[[], object]:
        def call() -> object:
            with db.transaction() as s:
                return change(s)
        return call

    return [
        ("whole page (week, 12 weeks)", run(lambda s, c: dashboard(s, week, NOW))),
        ("whole page, one channel (month, a year)", run(lambda s, c: dashboard(s, hotline, NOW))),
        ("chart data (week, 12 weeks)", run(lambda s, c: chart_data(s, week, NOW))),
        ("tiles incl. medians (week)", run(lambda s, c: measures(s, c, week))),
        ("tiles (quarter to date, a year's data)", run(lambda s, c: measures(s, c, quarter))),
        ("trend per week", run(lambda s, c: grouped(s, c, week, "week"))),
        ("per channel, one channel per month", run(lambda s, c: grouped(s, c, hotline, "month"))),
        ("per team (join on tasks)", run(lambda s, c: grouped(s, c, week, "team"))),
        ("team filter (exists on tasks)", run(lambda s, c: measures(s, c, team))),
        ("handle time per task type", run(lambda s, c: handle_times(s, week))),
        ("backlog by priority and stage", run(lambda s, c: backlog(s, c, week))),
        ("backlog, one channel", run(lambda s, c: backlog(s, c, hotline))),
        ("backlog, a channel's team (a pair)", run(lambda s, c: backlog(s, c, replace(hotline, team="technician")))),
        ("drill-down page (over target)", run(lambda s, c: tickets_behind(s, c, week, Drill("over_target")))),
        ("refresh: 200 changed tickets, by delta", write(changed_batch)),
        ("rebuild one day's roll-ups (not per refresh)", write(lambda s: roll_up(s, kpi_settings(s),
                                                                                [date(2026, 12, 1)]))),
    ]


#: a refresh batch's change: each ticket (and its tasks) to the next priority, an open ticket to another stage
NEXT_PRIORITY = ("CASE priority WHEN 'urgent' THEN 'high' WHEN 'high' THEN 'medium' WHEN 'medium' THEN 'low' "
                 "ELSE 'urgent' END")
NEXT_STAGE = ("CASE WHEN stage IS NULL THEN NULL WHEN stage = 'Diagnose the fault' THEN 'Supply the parts' "
              "ELSE 'Diagnose the fault' END")


def changed_batch(s: Any, size: int = 200) -> None:
    """Change the facts of the first ``size`` tickets opened from 1 December on (one day at a million tickets, a
    week at ten thousand) as a refresh batch rewrites them, the roll-ups kept by delta
    (:func:`analytics.rollup.by_delta`)."""
    rows = s.execute(select(KpiTicket.ticket_id, KpiTicket.instance_id)
                     .where(KpiTicket.opened_at >= datetime(2026, 12, 1, tzinfo=UTC))
                     .order_by(KpiTicket.opened_at, KpiTicket.ticket_id).limit(size)).all()
    tickets, instances = [r.ticket_id for r in rows], [r.instance_id for r in rows]
    with by_delta(s, kpi_settings(s), tickets, instances):
        s.execute(text(f"UPDATE kpi_ticket SET priority = {NEXT_PRIORITY}, stage = {NEXT_STAGE} "
                       "WHERE ticket_id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": tickets})
        s.execute(text(f"UPDATE kpi_task SET priority = {NEXT_PRIORITY} WHERE instance_id IN :ids")
                  .bindparams(bindparam("ids", expanding=True)), {"ids": instances})


def print_percentiles(db: Database) -> None:
    """Print each median and p90 the tiles show (from the histograms, with the error bound) beside the exact
    nearest-rank value from the facts."""
    week = KpiFilter(period="week").bounded(NOW)
    with db.transaction(write=False) as s:
        shown = ticket_times(s, week, ())[None][None]
        exact = exact_ticket_times(s, week, ())[None].get(None, {})
    for name in ("response", "resolution"):
        for label in ("median", "p90"):
            key = f"{name}_{label}_hours"
            value, error, truth = shown[key], shown.get(f"{key}_error"), exact.get(key)
            if value is None:
                continue
            off = abs(value - truth) / truth * 100 if truth else 0.0
            print(f"  {key:<26} ≈ {value:8.3f} h ±{(error or 0) * 100:.1f} %   exact {truth:8.3f} h   "
                  f"off by {off:.2f} %{'' if off <= (error or 0) * 100 + 1e-6 else '  OUTSIDE THE BOUND'}")


def main() -> None:
    """Seed each size on each database, time the queries, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    params = load_parameters()
    for kind in args.databases.split(","):
        results: dict[int, dict[str, tuple[float, float, float]]] = {}
        for size in sizes:
            with database(kind) as url:
                upgrade(url)
                db = Database(url)
                took = seed(db, size, params)
                print(f"{kind}: {size:,} tickets seeded in {sum(took.values()):.1f} s ("
                      + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()) + ")", flush=True)
                results[size] = {name: timed(fn, args.repeat) for name, fn in cases(db)}
                print_percentiles(db)
                with db.transaction(write=False) as s:  # the batches merged by delta left what a rebuild holds
                    drifted = drift(s, kpi_settings(s), date(2026, 11, 30), NOW.date())
                print(f"  roll-ups from 30 November on after the delta batches: {len(drifted)} values drifted")
                db.dispose()
        target = TARGET_RATIO.get(kind, TARGET_RATIO["sqlite"])
        basis = 2 if kind == "sqlite" else 0  # SQLite works in this process: its CPU time, steadier on a busy machine
        print(f"\n{kind}: p50 / p95 wall, p50 CPU in ms" + "".join(f" | {s:>26,}" for s in sizes)
              + (f" | ratio of p50 {'CPU' if basis else 'wall'} at {sizes[-1] // sizes[0]:,}x the tickets "
                 f"(target ≤ {target:g}x)" if len(sizes) > 1 else ""))
        for name in results[sizes[0]]:
            cells = "".join(f" | {results[s][name][0]:7.1f} / {results[s][name][1]:7.1f} / {results[s][name][2]:6.1f}"
                            for s in sizes)
            ratio = results[sizes[-1]][name][basis] / max(results[sizes[0]][name][basis], 0.01)
            verdict = f" | {ratio:6.1f}x {'ok' if ratio <= target else 'OVER'}" if len(sizes) > 1 else ""
            print(f"  {name:<42}{cells}{verdict}")
        print(flush=True)


if __name__ == "__main__":
    main()
