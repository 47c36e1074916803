"""Percentiles from per-day histograms: durations counted in log-spaced buckets, merged over a range.

A median over a quarter of a million tickets needs every value — or a histogram. Each
business day keeps, per dimension value (and per task type for handle times), how many
durations fell into each of :data:`BUCKETS` buckets whose edges grow by :data:`GROWTH`
(1 s, 1.1 s, 1.21 s … about six years; bucket 0 holds what took under a second). Summing
the days of a range is a few thousand rows however many tickets there are; the
nearest-rank percentile is then the bucket where the running count reaches the rank,
shown as the bucket's middle. The exact value lies in that bucket, so the figure is off
by at most half the bucket's width: :func:`percentile` returns that bound with the value
(``(hi − lo) / (hi + lo)``, 4.8 % for every bucket from one second up).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Date, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base

GROWTH = 1.1
#: the lower edges of buckets 1 … (bucket 0 is [0, 1 s)); the last bucket has no upper edge
EDGES: tuple[float, ...] = tuple(round(GROWTH ** k, 3) for k in range(200))
BUCKETS = len(EDGES) + 1
COLUMNS = tuple(f"b{i}" for i in range(BUCKETS))
#: the widest relative error of a percentile in a bounded bucket of one second or more
ERROR = max((hi - lo) / (hi + lo) for lo, hi in zip(EDGES, EDGES[1:], strict=False))


def bucket_of(seconds: float) -> int:
    """Return the bucket a duration falls into."""
    return bisect_right(EDGES, seconds)


def bucket_text(column: str) -> str:
    """Return SQL giving the bucket of ``column`` (SQL text): a binary search of CASEs, on both databases."""
    def within(lo: int, hi: int) -> str:
        if lo == hi:
            return str(lo)
        mid = (lo + hi + 1) // 2
        return f"CASE WHEN {column} < {EDGES[mid - 1]!r} THEN {within(lo, mid - 1)} ELSE {within(mid, hi)} END"
    return within(0, BUCKETS - 1)


def bounds(bucket: int) -> tuple[float, float | None]:
    """Return a bucket's lower and upper edge in seconds (None: the open last bucket)."""
    lo = 0.0 if bucket == 0 else EDGES[bucket - 1]
    return lo, (EDGES[bucket] if bucket < len(EDGES) else None)


@dataclass(frozen=True)
class Percentile:
    """A percentile read from a histogram: the bucket's middle and how far the exact value may be."""

    seconds: float
    error: float  # relative: the exact value is within ``seconds · (1 ± error)``


def percentile(counts: Sequence[int], q: float) -> Percentile | None:
    """Return the nearest-rank ``q`` percentile of the durations counted in ``counts`` (None when empty)."""
    n = sum(counts)
    if not n:
        return None
    rank = max(1, -int(-q * n // 1))  # ceil(q · n), as analytics.timings.nearest_rank
    seen = 0
    for bucket, count in enumerate(counts):
        seen += count
        if seen >= rank:
            lo, hi = bounds(bucket)
            if hi is None:  # beyond six years: the lower edge, said to be as uncertain as it is
                return Percentile(lo, 1.0)
            return Percentile((lo + hi) / 2, (hi - lo) / (hi + lo))
    raise AssertionError("unreachable: the running count reaches n")


def counts_of(row: Any) -> list[int]:
    """Return the bucket counts of a row that selected :func:`summed` columns."""
    mapping = row._mapping
    return [int(mapping[name] or 0) for name in COLUMNS]


def spread(counts: Sequence[int], name: str, scale: float = 3600.0) -> dict[str, float | None]:
    """Return ``{name}_median_…``, ``{name}_p90_…`` (hours, or minutes with ``scale`` 60) and their errors."""
    unit = "hours" if scale == 3600.0 else "minutes"
    out: dict[str, float | None] = {}
    for label, q in (("median", 0.5), ("p90", 0.9)):
        found = percentile(counts, q)
        out[f"{name}_{label}_{unit}"] = None if found is None else found.seconds / scale
        out[f"{name}_{label}_{unit}_error"] = None if found is None else found.error
    return out


# --- the table ------------------------------------------------------------------------------------
def _bucket_columns() -> dict[str, Any]:
    return {name: mapped_column(Integer, default=0) for name in COLUMNS}


class _Keys:
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    quarter: Mapped[str] = mapped_column(String(7))


KpiHistogram = type("KpiHistogram", (_Keys, Base), {
    "__tablename__": "kpi_histogram",
    "__doc__": "How many durations of one measure fell in each bucket on one day, for one dimension value "
               "(``dim`` ``all`` with value ``''``: every ticket) and, for task times, one task type.",
    "__table_args__": (Index("ix_kpi_histogram_day", "day"),),
    **_bucket_columns()})
H: Any = KpiHistogram


@cache  # two hundred SUMs, built once per table
def summed(table: Any = None) -> list[Any]:
    """Return ``SUM(b0) … SUM(bN)`` labelled by bucket, over ``table`` (the histogram by default)."""
    table = H if table is None else table
    return [func.coalesce(func.sum(getattr(table, name)), 0).label(name) for name in COLUMNS]


def bucket_counts(rows: Iterable[Any], key: Any) -> dict[Any, list[int]]:
    """Return the bucket counts of rows from :func:`summed`, merged by ``key(row)``."""
    out: dict[Any, list[int]] = {}
    for row in rows:
        counts = counts_of(row)
        k = key(row)
        if k in out:
            out[k] = [a + b for a, b in zip(out[k], counts, strict=True)]
        else:
            out[k] = counts
    return out


__all__ = ["BUCKETS", "COLUMNS", "EDGES", "ERROR", "GROWTH", "H", "KpiHistogram", "Percentile", "bounds",
           "bucket_counts", "bucket_of", "bucket_text", "counts_of", "percentile", "spread", "summed"]
