"""KPI dashboard benchmark: the dashboard's queries at 10,000 and 1,000,000 tickets, and the ratio.

Run: python -m bench.kpi [--sizes 10000,1000000] [--databases sqlite,postgresql] [--repeat 5].

The facts are bulk-inserted, not simulated (the engine path is ``aftersales simulate``'s):
a block of 10,000 tickets drawn like real ones — a year of weekday- and office-hour-heavy
arrivals, the channel, fault, product-line and priority mixes of ``simulation.json``,
log-normal first-response and resolution times, surveys on a third, back-orders on a
sixth of the parts tickets — is inserted row by row, then copied by ``INSERT … SELECT``
up to the size wanted (each copy its own ticket ids and numbers, on the same days);
every ticket gets its human tasks (register, respond, and for most a diagnosis, a repair
and a quality check) by ``INSERT … SELECT`` from the tickets; then the daily roll-ups are
built. Prints p50/p95 per query (and of rebuilding one day's roll-ups, what a refresh
batch does) and the 1,000,000 / 10,000 ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from analytics.dashboard import chart_data, dashboard
from analytics.facts import KpiTicket, kpi_settings, period_keys
from analytics.queries import Context, Drill, KpiFilter, backlog, grouped, handle_times, measures, tickets_behind
from analytics.rollup import roll_up
from engine.db import Database
from engine.migrate import upgrade
from simulation.workload import Draw, arrival_times, load_parameters

from .scale import database  # a fresh SQLite file or a throw-away PostgreSQL
from .tasklist import timed  # p50 and p95 of repeated calls

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


def seed(db: Database, size: int, params: dict[str, Any]) -> float:
    """Insert ``size`` tickets (and their tasks); return the seconds it took."""
    began = time.perf_counter()
    rows = block(params, 7)
    columns = [c.name for c in KpiTicket.__table__.columns]
    with db.transaction() as s:
        for start in range(0, len(rows), 2000):
            s.execute(insert(KpiTicket), rows[start:start + 2000])
    keep = ", ".join(c for c in columns if c not in ("ticket_id", "number", "instance_id"))
    for copy in range(1, size // BLOCK):
        with db.transaction() as s:
            s.execute(text(f"INSERT INTO kpi_ticket (ticket_id, number, instance_id, {keep}) "
                           f"SELECT ticket_id + :off, number || '-' || :copy, instance_id + :off, {keep} "
                           f"FROM kpi_ticket WHERE ticket_id <= {BLOCK}"), {"off": copy * BLOCK, "copy": copy})
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
    with db.transaction() as s:
        roll_up(s, kpi_settings(s), None)
    with db.transaction() as s:
        s.execute(text("ANALYZE"))
    return time.perf_counter() - began


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
        ("chart data (week, 12 weeks)", run(lambda s, c: chart_data(s, week, NOW))),
        ("tiles incl. medians (week)", run(lambda s, c: measures(s, c, week))),
        ("tiles (quarter to date, a year's data)", run(lambda s, c: measures(s, c, quarter))),
        ("trend per week", run(lambda s, c: grouped(s, c, week, "week"))),
        ("per channel, one channel per month", run(lambda s, c: grouped(s, c, hotline, "month"))),
        ("per team (join on tasks)", run(lambda s, c: grouped(s, c, week, "team"))),
        ("team filter (exists on tasks)", run(lambda s, c: measures(s, c, team))),
        ("handle time per task type", run(lambda s, c: handle_times(s, week))),
        ("backlog by priority and stage", run(lambda s, c: backlog(s, c, week))),
        ("drill-down page (over target)", run(lambda s, c: tickets_behind(s, c, week, Drill("over_target")))),
        ("refresh: roll one day up again", write(lambda s: roll_up(s, kpi_settings(s), [date(2026, 12, 1)]))),
    ]


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
        results: dict[int, dict[str, tuple[float, float]]] = {}
        for size in sizes:
            with database(kind) as url:
                upgrade(url)
                db = Database(url)
                took = seed(db, size, params)
                print(f"{kind}: {size:,} tickets seeded in {took:.1f} s", flush=True)
                results[size] = {name: timed(fn, args.repeat) for name, fn in cases(db)}
                db.dispose()
        target = TARGET_RATIO.get(kind, TARGET_RATIO["sqlite"])
        print(f"\n{kind}: p50 / p95 in ms" + "".join(f" | {s:>19,}" for s in sizes)
              + (f" | ratio p50 {sizes[-1] // sizes[0]:,}x tickets (target ≤ {target:g})" if len(sizes) > 1 else ""))
        for name in results[sizes[0]]:
            cells = "".join(f" | {results[s][name][0]:8.1f} / {results[s][name][1]:8.1f}" for s in sizes)
            ratio = results[sizes[-1]][name][0] / max(results[sizes[0]][name][0], 0.01)
            verdict = f" | {ratio:8.1f} {'ok' if ratio <= target else 'OVER'}" if len(sizes) > 1 else ""
            print(f"  {name:<40}{cells}{verdict}")
        print(flush=True)


if __name__ == "__main__":
    main()
