"""``aftersales simulate``: play a realistic history through the real process (:mod:`simulation.history`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from simulation.history import simulate_history
from simulation.workload import load_parameters

from .main import _services, handled, main


@main.command()
@click.option("--tickets", "-n", default=300, show_default=True, type=click.IntRange(1, 1_000_000),
              help="requests to simulate")
@click.option("--days", "-d", default=60, show_default=True, type=click.IntRange(1, 3650),
              help="length of the simulated period")
@click.option("--seed", "-s", default=1, show_default=True, type=int, help="the same seed gives the same history")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="first simulated day (default: DAYS days before today)")
@click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="parameters (default: processes/data/simulation.json)")
@click.pass_context
@handled
def simulate(ctx: click.Context, tickets: int, days: int, seed: int, start: datetime | None,
             params_file: Path | None) -> None:
    """Generate a realistic history of tickets through the real process, on a demo or test database.

    It adds customers, tickets and their whole trail, and starts the period with the lean parts
    stock of the parameters; deploy processes/ and load the catalogue first (aftersales demo
    --no-serve)."""
    services = _services(ctx)
    params = load_parameters(params_file)
    with click.progressbar(length=days * 86400, label=f"Simulating {tickets} requests over {days} days",
                           show_eta=True) as bar:
        report = simulate_history(services.db, services.runtime, tickets, days, seed,
                                  start.date() if start else None, params, bar.update)
    click.echo(f"{report.requests} requests, {report.tickets} tickets ({report.closed} closed), "
               f"{report.tasks} tasks done, {report.messages} customer messages, {report.worker_passes} worker "
               f"passes, {report.open_incidents} open incidents, in {report.seconds:.0f} s")
    for line in report.skipped[:10]:
        click.echo(f"  skipped: {line}", err=True)
