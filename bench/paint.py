"""Time until the diagram pages are painted in Chromium (bpmn-js ready), for the largest diagram.

Run: python -m bench.paint [--url URL | --instances N] [--repeat N].

Serves the real app from a thread on loopback over a database filled as ``bench.pages``
fills one (``--url`` reuses a filled one), signs in through the form in Debian's Chromium,
then loads the heatmap of the process with the largest BPMN file and the trace of its
instance with the longest trail, each ``--repeat`` times, and prints p50/max of the time
from navigation start until the page marks its diagram ``data-ready`` next to the 1 s
target. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
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


def paint_times(page: Any, address: str, ready: str, repeat: int) -> list[float]:
    """Load ``address`` ``repeat`` times (after one warm-up); return ms until ``ready`` appears."""
    out = []
    for n in range(repeat + 1):
        page.goto(address, wait_until="commit")
        page.wait_for_selector(ready, state="attached", timeout=60_000)
        if n:
            out.append(page.evaluate("performance.now()"))
    return out


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
        print(f"  {'page (navigation → diagram ready, ms)':44} {'p50':>8} {'max':>8} {'target':>7}")
        for label, address, ready in (
                (f"heatmap {process}", f"{base}/owner/heatmap/{dep}/{process}", "#heatmap[data-ready=true]"),
                (f"trace of instance {instance}", f"{base}/audit/instances/{instance}", "[data-ready=true]")):
            times = paint_times(page, address, ready, repeat)
            print(f"  {label:44} {statistics.median(times):8.0f} {max(times):8.0f} {TARGET_MS:7.0f}  "
                  f"{'ok' if max(times) <= TARGET_MS else 'SLOW'}", flush=True)
    services.db.dispose()


def main() -> None:
    """Fill (or reuse) a database and print the paint times."""
    import random

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a database bench.pages filled (else a fresh SQLite file is filled)")
    parser.add_argument("--instances", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
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
