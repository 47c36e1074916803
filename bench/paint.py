"""Time until the diagram pages are painted in Chromium (bpmn-js ready), for the largest diagram.

Run: python -m bench.paint [--url URL | --instances N] [--repeat N].

Serves the real app from a thread on loopback over a database filled as ``bench.pages``
fills one (``--url`` reuses a filled one), signs in through the form in Debian's Chromium,
then loads the heatmap of the process with the largest BPMN file and the trace of its
instance with the longest trail, each ``--repeat`` times (in English, then in Chinese: a Chinese
page draws its diagram with translated names), and prints p50/p95/max of the time from
navigation start until the first animation frame in which the page's diagram is ``data-ready``
(read by the page's own clock, so the harness's own round trips do not count) next to the 1 s
target. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import pages

TARGET_MS = 1000.0


def largest(url: str) -> tuple[int, str, int]:
    """Return the newest deployment, its process with the largest BPMN file, and that process's
    instance with the longest trail."""
    from engine.db import Database
    from engine.models import Deployment, DeploymentFile, Instance, ProcessDefinition

    db = Database(url)
    with db.transaction(write=False) as s:
        dep = s.scalar(select(func.max(Deployment.id)))
        process = s.execute(select(ProcessDefinition.process_id).join(DeploymentFile, (
            DeploymentFile.deployment_id == ProcessDefinition.deployment_id) & (
            DeploymentFile.path == ProcessDefinition.file)).where(
            ProcessDefinition.deployment_id == dep, ProcessDefinition.kind == "process").order_by(
            func.length(DeploymentFile.content).desc()).limit(1)).scalar_one()
        instance = s.scalar(select(Instance.id).where(Instance.deployment_id == dep,
                                                      Instance.process_id == process)
                            .order_by(Instance.audit_seq.desc()).limit(1))
    db.dispose()
    return dep, process, instance


#: the page's clock at the first animation frame that finds ``ready`` (the frame that paints it)
READY_AT = "selector => document.querySelector(selector) !== null && performance.now()"


def paint_times(page: Any, address: str, ready: str, repeat: int) -> list[float]:
    """Load ``address`` ``repeat`` times (after one warm-up); return the ms until ``ready`` is painted."""
    times = []
    for n in range(repeat + 1):
        page.goto(address, wait_until="commit")
        painted = page.wait_for_function(READY_AT, arg=ready, polling="raf", timeout=60_000).json_value()
        if n:
            times.append(painted)
    return times


def percentile(values: list[float], share: float) -> float:
    """Return the ``share`` percentile of ``values`` (nearest rank)."""
    return sorted(values)[max(0, math.ceil(share * len(values)) - 1)]


def measure(url: str, repeat: int) -> None:
    """Serve the app over ``url`` and print the paint times of the diagram pages."""
    from engine.config import load_settings
    from tests.web.live import chromium, serving
    from web import create_app
    from web.services import Services

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    dep, process, instance = largest(url)
    services = Services.from_settings(load_settings(database_url=url))
    app = create_app({"SECRET_KEY": "bench"}, services=services)
    with serving(app) as base, chromium() as context:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "bench_boss")
        page.fill("input[name=password]", pages.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u)
        print(f"  {'page (navigation → diagram painted, ms)':40} {'p50':>6} {'p95':>6} {'max':>6} {'target':>6}")
        for language in ("en", "zh"):
            page.goto(f"{base}/lang/{language}?next=/")
            for label, address, ready in (
                    (f"heatmap {process}", f"{base}/owner/heatmap/{dep}/{process}", "#heatmap[data-ready=true]"),
                    (f"trace of instance {instance}", f"{base}/audit/instances/{instance}", "#trace[data-ready=true]")):
                times = paint_times(page, address, ready, repeat)
                print(f"  {label + ' (' + language + ')':40} {statistics.median(times):6.0f} "
                      f"{percentile(times, 0.95):6.0f} {max(times):6.0f} {TARGET_MS:6.0f}"
                      f"  {'ok' if max(times) <= TARGET_MS else 'SLOW'}", flush=True)
    services.db.dispose()


def main() -> None:
    """Fill (or reuse) a database and print the paint times."""
    import random

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a database bench.pages filled (else a fresh SQLite file is filled)")
    parser.add_argument("--instances", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if args.url:
        measure(args.url, args.repeat)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'paint.sqlite3'}"
        pages.prepare(url, 40, 12)
        cloner = pages.Cloner(url)
        made, events = cloner.fill(cloner.load(), args.instances, 10 * args.instances, random.Random(3))
        cloner.close()
        pages.rebuild_rollups(url)
        print(f"  {made:,} instances, {events:,} audit events")
        measure(url, args.repeat)


if __name__ == "__main__":
    main()
