"""What-if: the same simulated history played through two versions of the process, side by side.

Each side (``arms``: e.g. ``draft`` and ``deployed``, each a bundle folder) gets a process
of its own (the sides run at once: a second core halves the wait) and its own throw-away
SQLite database in the job's folder — never the live one — migrated, with the bundle
deployed and the demo catalogue loaded, and the simulator (:mod:`simulation.history`) plays
the same seed, the same arrivals from the same first day through it. Then the
figures of each (:mod:`analytics.versions`: SLA attainment, resolution time median and p90,
cost per ticket, tickets per route) and a heatmap per process (:func:`engine.trace.heatmap`)
are read back.

A job is a folder: ``request.json`` in, ``status.json`` out (``state`` running|done|failed,
``progress`` 0..1, ``result`` or ``error``), rewritten atomically as the simulation goes,
so the web app — which may not import the simulator — starts ``python -m simulation.whatif
<folder>`` and reads the status back.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from analytics.versions import version_figures
from engine import trace
from engine.bundle import read_bundle
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.errors import AftersalesError
from engine.migrate import upgrade
from engine.pilots import find_definition
from engine.registry import load_handlers
from engine.rehearsal import set_purpose
from engine.runtime import Runtime
from handlers.demo import DATA_DIR, load_catalogue

from .history import simulate_history
from .workload import load_parameters

SETTLE_DAYS = 10
#: the worker's KPI job once a simulated day, not every four hours as in a history: a what-if's figures are
#: read after the last pass, which refreshes every fact, so the tickets' figures are the same and the owner
#: waits about a fifth less (50 tickets: 21.2 s → 17.5 s); the root-cause analyses that alerts start begin up
#: to a day after the crossing instead of four hours (their waiting times on the heatmap move with it)
KPI_MINUTES = 24 * 60


def run_arm(bundle_dir: Path, database_file: Path, tickets: int, days: int, seed: int, first_day: date,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Play the history through the bundle in ``bundle_dir`` on a new SQLite file; return its figures."""
    url = f"sqlite:///{database_file}"
    upgrade(url)
    database = Database(url)
    try:
        runtime = Runtime(load_settings(database_url=url))
        with database.transaction() as session:
            set_purpose(session, "simulation", "whatif")  # its e-mail is recorded, never sent
            deployed = deploy(session, read_bundle([bundle_dir], name=bundle_dir.name), "whatif")
            load_catalogue(session, DATA_DIR)
        params = load_parameters()
        params["kpi_minutes"] = KPI_MINUTES
        report = simulate_history(database, runtime, tickets, days, seed, first_day, params, progress,
                                  settle_days=SETTLE_DAYS)
        dep = deployed.deployment_id
        with database.transaction(write=False) as session:
            figures = version_figures(session, [dep])[dep]
            heatmaps = {p: trace.heatmap(session, dep, p) for p in deployed.processes}
            files = {p: find_definition(session, p, dep).file for p in deployed.processes}
            ends = {(p, n.id) for p in deployed.processes for n in trace.graph_for(session, dep, p).nodes.values()
                    if n.type == "endEvent"}
    finally:
        database.dispose()
    routes = {f"{p}/{e['element_id']}": e["executions"] for p, h in heatmaps.items() for e in h["elements"]
              if (p, e["element_id"]) in ends and e["executions"]}
    return {**figures, "routes": dict(sorted(routes.items())), "outcomes": figures["routes"],
            "requests": report.requests, "skipped": report.skipped[:20], "heatmaps": heatmaps, "files": files,
            "open_incidents": report.open_incidents}


class Job:
    """One what-if run kept in a folder: its request, its status and the arms' databases."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def request(self) -> dict[str, Any]:
        """Return what was asked: tickets, seed, days, first_day and the arms' bundle folders."""
        return dict(json.loads((self.folder / "request.json").read_text(encoding="utf-8")))

    def status(self) -> dict[str, Any]:
        """Return the job's state, progress and (when done) result or (when failed) error."""
        path = self.folder / "status.json"
        if not path.is_file():
            return {"state": "running", "progress": 0.0}
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def write_status(self, **status: Any) -> None:
        """Replace the status file atomically (readers never see half of it)."""
        temporary = self.folder / f"status.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(status, default=str), encoding="utf-8")
        temporary.replace(self.folder / "status.json")

    def run(self) -> dict[str, Any]:
        """Run every arm at once, each in a process of its own (the arms share nothing but the request:
        each has its own database, seed and clock, so they give what they gave one after the other);
        report their summed progress and return the result."""
        asked = self.request
        arms: dict[str, str] = asked["arms"]
        tickets, days, seed = int(asked["tickets"]), int(asked["days"]), int(asked["seed"])
        first_day = date.fromisoformat(asked["first_day"])
        span = (days + SETTLE_DAYS) * 86400 * len(arms)
        context = multiprocessing.get_context("fork")  # the handlers are loaded; no connection is open yet
        advanced = context.Array("q", len(arms), lock=False)  # seconds simulated, one slot per arm
        children = [context.Process(target=_run_arm_child, name=f"whatif-{name}", daemon=True,
                                    args=(self.folder, name, self.folder / folder, tickets, days, seed, first_day,
                                          advanced, index))
                    for index, (name, folder) in enumerate(arms.items())]
        for child in children:
            child.start()
        while any(child.is_alive() for child in children):
            self.write_status(state="running", progress=min(0.99, sum(advanced) / span))
            if any("result" not in (self._outcome(name) or {"result": None}) for name in arms):
                for child in children:  # one arm failed: the other's figures would compare with nothing
                    child.terminate()
            for child in children:
                child.join(0.5)
                if child.is_alive():
                    break
        outcomes = {name: self._outcome(name) or {} for name in arms}
        for outcome in outcomes.values():
            if "error" in outcome:
                self.write_status(state="failed", progress=1.0, error=outcome["error"])
                raise AftersalesError(outcome["error"].get("message", "the what-if failed"))
        for outcome in outcomes.values():
            if "broke" in outcome:
                raise RuntimeError(outcome["broke"])
        for name, child in zip(arms, children, strict=True):
            if "result" not in outcomes[name]:
                raise RuntimeError(f"the {name} arm stopped (exit code {child.exitcode})")
        result = {name: outcomes[name]["result"] for name in arms}
        self.write_status(state="done", progress=1.0, result=result)
        return result

    def _outcome(self, name: str) -> dict[str, Any] | None:
        path = self.folder / f"{name}.outcome.json"
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def _run_arm_child(folder: Path, name: str, bundle_dir: Path, tickets: int, days: int, seed: int, first_day: date,
                   advanced: Any, index: int) -> None:
    """Run one arm (in its own process) and leave its result, or what stopped it, in ``<name>.outcome.json``."""

    def progress(seconds: int) -> None:
        advanced[index] += seconds

    try:
        outcome: dict[str, Any] = {"result": run_arm(bundle_dir, folder / f"{name}.sqlite3", tickets, days, seed,
                                                     first_day, progress)}
    except AftersalesError as exc:
        outcome = {"error": exc.to_dict()}
    except Exception as exc:  # noqa: BLE001  (the parent reports it as the simulation breaking)
        outcome = {"broke": f"{type(exc).__name__}: {exc}"}
    temporary = folder / f"{name}.outcome.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(outcome, default=str), encoding="utf-8")
    temporary.replace(folder / f"{name}.outcome.json")


def main(argv: list[str]) -> int:
    """Run the what-if job in the folder ``argv[0]`` (``python -m simulation.whatif <folder>``)."""
    load_handlers()
    job = Job(Path(argv[0]))
    try:
        job.run()
    except AftersalesError:
        return 2
    except Exception as exc:  # noqa: BLE001  (the owner sees what broke instead of a job running forever)
        job.write_status(state="failed", progress=1.0,
                         error={"code": "error", "message": f"the simulation broke: {exc}"})
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
