"""``aftersales kpi verify``: recount the dashboard's figures from the audit trail and compare."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from analytics.verify import verify
from engine import clock

from .main import _emit, _services, handled, main

#: the exit code when a figure of the dashboard differs from its recount (as audit verify's 6 for a broken chain)
MISMATCH = 7


@main.group("kpi")
def kpi_group() -> None:
    """Check the KPI figures."""


@kpi_group.command("verify")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="first business day (default: the dashboard's default range)")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="last business day (default: today)")
@click.option("--user", default="cli", show_default=True, help="who ran it (kept with the result)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def kpi_verify(ctx: click.Context, start: datetime | None, end: datetime | None, user: str, as_json: bool) -> None:
    """Recompute every dashboard figure from the audit trail, SLA-clock events, survey answers and parts
    movements (not from the roll-ups) and report each one that differs; exit 7 on a difference."""
    with _services(ctx).db.transaction() as session:
        result = verify(session, clock.now(), user, start.date() if start else None, end.date() if end else None)
    report = {"from": result.start.isoformat(), "to": result.end.isoformat(), "figures": result.figures,
              "matched": result.matched, "mismatches": result.mismatches}
    _emit(report, as_json, lambda r: (
        f"ok: {r['figures']} figures from {r['from']} to {r['to']} match the trail" if r["matched"] else
        f"MISMATCH: {len(r['mismatches'])} of {r['figures']} figures from {r['from']} to {r['to']} differ:\n"
        + "\n".join(f"  {m['figure']}: dashboard {m['dashboard']}, trail {m['trail']}" for m in r["mismatches"])))
    if not result.matched:
        sys.exit(MISMATCH)
