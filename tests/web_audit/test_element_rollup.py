"""The heatmap's per-element figures are kept as events are written and equal a scan of the trail."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import rollup_elements, trace
from engine.bundle import read_bundle
from engine.deploy import deploy
from engine.errors import NotFound
from engine.rollup_elements import ElementFigure, ElementFigureBucket, ElementRun
from handlers.demo import load_catalogue
from simulation.history import simulate_history

PROCESSES = Path(__file__).parent.parent.parent / "processes"


@pytest.fixture
def history(database, runtime, clock) -> int:
    """A short history of the real after-sales process (every route the simulation takes); its deployment."""
    with database.transaction() as s:
        deployment = deploy(s, read_bundle([PROCESSES], "aftersales"), "owner").deployment_id
        load_catalogue(s, PROCESSES / "data")
    simulate_history(database, runtime, tickets=10, days=4, seed=7, start=date(2026, 3, 2))
    return deployment


def same_figures(rolled: dict[str, Any], scanned: dict[str, Any]) -> None:
    """Assert the roll-up gives the scan's heatmap: counts exactly, averages to the millisecond,
    90th percentiles to within 1 % (they are read from buckets 2 % wide)."""
    assert rolled["instances"] == scanned["instances"] > 0
    by_id = {e["element_id"]: e for e in scanned["elements"]}
    assert [e["element_id"] for e in rolled["elements"]] == sorted(by_id)
    for element in rolled["elements"]:
        want = by_id[element["element_id"]]
        assert (element["executions"], element["active"], element["failed"]) == (
            want["executions"], want["active"], want["failed"]), element["element_id"]
        for key in ("waiting_avg", "working_avg"):
            assert element[key] == pytest.approx(want[key], abs=0.002), (element["element_id"], key)
        for key in ("waiting_p90", "working_p90"):
            expected = None if want[key] is None else pytest.approx(want[key], rel=0.011, abs=0.002)
            assert element[key] == expected, (element["element_id"], key)


def test_heatmap_roll_up_equals_a_scan_of_the_trail_after_a_history_of_the_real_process(database, history):
    with database.transaction(write=False) as s:
        rolled = rollup_elements.heatmap(s, history, "after_sales")
        scanned = trace.heatmap(s, history, "after_sales")
    assert sum(e["executions"] for e in rolled["elements"]) > 50
    same_figures(rolled, scanned)


def test_rebuilding_from_the_trail_gives_the_figures_kept_while_the_process_ran(database, history):
    def snapshot() -> tuple[Any, ...]:
        with database.transaction(write=False) as s:
            runs = sorted((r.task_id, r.element_id, r.state, r.waiting_seconds, r.working_seconds)
                          for r in s.scalars(select(ElementRun)))
            figures = sorted((f.deployment_id, f.element_id, f.executions, f.active, f.failed, f.waiting_count,
                              round(f.waiting_sum, 3), f.working_count, round(f.working_sum, 3))
                             for f in s.scalars(select(ElementFigure)))
            buckets = sorted((b.element_id, b.measure, b.bucket, b.runs) for b in s.scalars(
                select(ElementFigureBucket)) if b.runs)
        return runs, figures, buckets

    kept = snapshot()
    with database.transaction() as s:
        assert rollup_elements.rebuild(s) == len(kept[0])
    assert snapshot() == kept
    with database.transaction() as s:  # and the totals again from the runs alone
        rollup_elements.rebuild_totals(s)
    assert snapshot() == kept


def test_the_percentile_of_buckets_is_exact_on_a_bucket_edge_and_within_one_percent_inside():
    counts = {rollup_elements.bucket_of(v): (1, v, v) for v in (10.0, 20.0, 1800.0)}
    assert rollup_elements.percentile_of(counts, 90) == 1800.0
    assert rollup_elements.percentile_of({}, 90) is None
    bucket = rollup_elements.bucket_of(1000.0)
    middle = rollup_elements.percentile_of({bucket: (3, 995.0, 1010.0)}, 50)
    assert 995.0 <= middle <= 1010.0 and middle == pytest.approx(1000.0, rel=0.01)
    assert rollup_elements.bucket_of(0.0) == 0 and rollup_elements.bucket_value(0) == 0.0


def test_heatmap_of_a_process_the_deployment_lacks_is_refused_by_name(database, history):
    with database.transaction(write=False) as s, pytest.raises(NotFound, match="no_such_process"):
        rollup_elements.heatmap(s, history, "no_such_process")
