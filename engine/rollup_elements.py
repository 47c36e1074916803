"""Per-element figures of each deployment, maintained as audit events are written.

The heatmap of a process version needs, per element, how often it ran, how many tokens wait
there or failed, and the average and 90th percentile of waiting and working times
(:mod:`engine.trace` defines them from an instance's trail). Scanning the whole trail for
that takes seconds at a million events, so the figures are kept up to date instead:
:func:`record` is called by :func:`engine.audit.write_instance_events` with the events it
has just chained, in the same transaction, and folds them into

* ``element_run`` — one row per execution of an element (a task of an instance): when it
  was reached, claimed, completed or failed, and its waiting and working seconds;
* ``element_figure`` — per deployment × element: executions, active, failed, and count and
  sum of waiting and working seconds (the averages);
* ``element_figure_bucket`` — per deployment × element × measure: how many runs fall in each
  logarithmic bucket of seconds (each 2 % wider than the last), from which the 90th
  percentile is read to within 1 %.

On PostgreSQL a trigger writes each table with one upsert, all three parts of the trigger's one
statement (:mod:`engine.writes`). On SQLite, which cannot send them as one, it upserts only
``element_run`` (an ``executemany``): database triggers on that table (migration 0023) add each
run's contribution to its figure and bucket and take back the one it replaced, from the bucket
numbers :meth:`RunState.to_row` stores on the run. Either way a trigger does not read the instance's runs
back: :data:`runs_cache` keeps them per process, keyed by the instance's audit head, from one
committed trigger to the next (a rollback drops them; a miss reads the rows).

A run counts for the deployment its instance was on when the run last changed (an
``instance.migrated`` event moves the instance: later runs count for the new version).
:func:`rebuild` recomputes everything from the trail with the same fold;
:func:`rebuild_totals` recomputes the two figure tables from ``element_run``; a migration that
changes how runs are counted marks the roll-ups stale and :func:`rebuild_if_stale` (run by
``aftersales db upgrade``) rebuilds them.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, after_commit
from .diagram import Graph, graphs_of
from .errors import NotFound
from .models import AuditEvent, DatabaseMark, Instance
from .trace import DATA_KINDS, ENDS, Run, cut_off_by, interrupt, within
from .writes import Writes

RATIO = 1.02  # each bucket of seconds is 2 % wider than the one below it
SMALLEST = 0.001  # seconds: bucket 1 starts here; bucket 0 holds exact zeros
MEASURES = ("waiting", "working")
#: (deployment, element, measure, bucket) → (runs, fewest seconds, most seconds)
Buckets = dict[tuple[int, str, str, int], tuple[int, float | None, float | None]]


class ElementRun(Base):
    """One execution of an element by one task of an instance, as its trail tells it."""

    __tablename__ = "element_run"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int]
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(64))
    first_seq: Mapped[int]
    reached_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_seq: Mapped[int | None]
    failed_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))  # active | completed | failed
    waiting_seconds: Mapped[float | None] = mapped_column(Float)
    working_seconds: Mapped[float | None] = mapped_column(Float)
    # the buckets of the two durations (bucket_of), kept so that SQLite's triggers need no logarithm
    waiting_bucket: Mapped[int | None]
    working_bucket: Mapped[int | None]


class ElementFigure(Base):
    """Executions and time totals of one element of one deployment, over all its instances."""

    __tablename__ = "element_figure"

    deployment_id: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    executions: Mapped[int]
    active: Mapped[int]
    failed: Mapped[int]
    waiting_count: Mapped[int]
    waiting_sum: Mapped[float] = mapped_column(Float)
    working_count: Mapped[int]
    working_sum: Mapped[float] = mapped_column(Float)


class ElementFigureBucket(Base):
    """How many completed runs of an element took seconds in one logarithmic bucket."""

    __tablename__ = "element_figure_bucket"

    deployment_id: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    measure: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    runs: Mapped[int]
    low: Mapped[float | None] = mapped_column(Float)  # the fewest and most seconds seen in the bucket
    high: Mapped[float | None] = mapped_column(Float)


# --- buckets ---------------------------------------------------------------------------------
def bucket_of(seconds: float) -> int:
    """Return the bucket of a duration (0 for none at all)."""
    if seconds <= 0:
        return 0
    return 1 + max(0, math.floor(math.log(seconds / SMALLEST) / math.log(RATIO) + 1e-9))


def bucket_value(bucket: int) -> float:
    """Return the seconds a bucket stands for: the geometric middle of its bounds (0 for bucket 0)."""
    if bucket <= 0:
        return 0.0
    return round(SMALLEST * RATIO ** (bucket - 1) * math.sqrt(RATIO), 3)


def percentile_of(counts: dict[int, tuple[int, float | None, float | None]], p: float) -> float | None:
    """Return the ``p``-th percentile (nearest rank) of the runs counted per bucket (runs, low, high):
    exact when the rank falls on the bucket's fewest or most seconds, else within 1 %."""
    total = sum(n for n, _, _ in counts.values())
    if total <= 0:
        return None
    rank, seen = max(1, math.ceil(p / 100 * total)), 0
    for bucket in sorted(counts):
        runs, low, high = counts[bucket]
        seen += runs
        if seen >= rank:
            if low is not None and (rank == seen - runs + 1 or low == high):
                return low
            if high is not None and rank == seen:
                return high
            value = bucket_value(bucket)
            return min(max(value, low if low is not None else value), high if high is not None else value)
    return None  # pragma: no cover - the loop always reaches the rank


# --- the fold ------------------------------------------------------------------------------
@dataclass
class RunState(Run):
    """A run as the fold keeps it: :class:`engine.trace.Run` and the version it counts for."""

    deployment_id: int = 0

    def contribution(self) -> tuple[int, str, str, str | None, float | None, float | None]:
        """Return what the run adds to its element's figures."""
        done = self.state == "completed"
        return (self.deployment_id, self.element_id, self.state, self.name,
                self.waiting_seconds if done else None, self.working_seconds if done else None)

    def to_row(self, instance_id: int) -> dict[str, Any]:
        """Return the ``element_run`` row of the run."""
        return {"task_id": self.task_id, "instance_id": instance_id, "deployment_id": self.deployment_id,
                "element_id": self.element_id, "name": self.name[:300], "type": self.type[:64],
                "first_seq": self.first_seq, "reached_at": self.reached_at, "claimed_at": self.claimed_at,
                "completed_at": self.completed_at, "completed_seq": self.seq,
                "failed_at": self.failed_at, "state": self.state, "waiting_seconds": self.waiting_seconds,
                "working_seconds": self.working_seconds,
                "waiting_bucket": None if self.waiting_seconds is None else bucket_of(self.waiting_seconds),
                "working_bucket": None if self.working_seconds is None else bucket_of(self.working_seconds)}


def _from_row(row: ElementRun) -> RunState:
    return RunState(row.task_id, row.element_id, row.name, row.type, row.reached_at, claimed_at=row.claimed_at,
                    completed_at=row.completed_at, seq=row.completed_seq, failed_at=row.failed_at,
                    first_seq=row.first_seq, interrupted=row.state == "interrupted",
                    deployment_id=row.deployment_id)


_graphs: weakref.WeakKeyDictionary[Any, dict[int, dict[str, Graph]]] = weakref.WeakKeyDictionary()


def deployment_graphs(session: Session, deployment_id: int) -> dict[str, Graph]:
    """Return the graphs of a deployment's processes (kept per database: deployments never change)."""
    cache = _graphs.setdefault(session.get_bind(), {})
    if deployment_id not in cache:
        cache[deployment_id] = graphs_of(session, deployment_id)
    return cache[deployment_id]


def _graph(graphs: dict[str, Graph], process_id: str, element_id: str) -> Graph | None:
    own = graphs.get(process_id)
    if own is not None and element_id in own.nodes:
        return own
    return next((g for g in graphs.values() if element_id in g.nodes), None)


class Fold:
    """The runs of one instance and where its tokens arrived, fed event by event."""

    def __init__(self, session: Session, process_id: str, deployment_id: int, runs: dict[str, RunState]) -> None:
        self.session = session
        self.process_id = process_id
        self.deployment_id = deployment_id
        self.runs = runs
        # what each changed run contributed before this fold touched it (None: a new run)
        self.before: dict[str, tuple[int, str, str, str | None, float | None, float | None] | None] = {}
        self.changed: set[str] = set()
        self.completed_at: dict[str, datetime] = {}
        self.reached: dict[str, datetime] = {}
        for run in sorted(runs.values(), key=lambda r: r.first_seq or 0):  # where tokens arrived so far
            if run.reached_at is not None:
                self.reached.setdefault(run.element_id, run.reached_at)
        for run in sorted((r for r in runs.values() if r.seq), key=lambda r: r.seq or 0):
            assert run.completed_at is not None
            self.completed_at[run.element_id] = run.completed_at
            if run.reached_at is not None:
                self.reached[run.element_id] = run.reached_at

    def feed(self, events: list[Any]) -> None:
        """Fold events (rows or dicts with seq, at, kind, task_id, element_id, data), in order."""
        migrations = [e for e in events if _get(e, "kind") == "instance.migrated"]
        if migrations:  # the events before the move ran on the version it left
            self.deployment_id = int((_get(migrations[0], "data") or {}).get("from_deployment")
                                     or self.deployment_id)
        for ev in events:
            kind, task_id, element_id = _get(ev, "kind"), _get(ev, "task_id"), _get(ev, "element_id")
            if kind == "instance.migrated":
                self.deployment_id = int((_get(ev, "data") or {}).get("to_deployment") or self.deployment_id)
            if kind in ENDS:
                self._interrupt(self.runs.values())
            if task_id and element_id:
                self._event(ev, kind, task_id, element_id)

    def _interrupt(self, runs: Iterable[RunState]) -> None:
        """Interrupt the unfinished runs of ``runs``, keeping what each contributed before."""
        cut = [r for r in runs if r.completed_at is None and not r.interrupted]
        for run in cut:
            if run.task_id not in self.changed:
                self.changed.add(run.task_id)
                self.before[run.task_id] = run.contribution()
        interrupt(cut)

    def _event(self, ev: Any, kind: str, task_id: str, element_id: str) -> None:
        at, seq, data = _get(ev, "at"), _get(ev, "seq"), _get(ev, "data") or {}
        run = self.runs.get(task_id)
        if task_id not in self.changed:
            self.changed.add(task_id)
            self.before[task_id] = run.contribution() if run is not None else None
        if run is None:
            run = self.runs[task_id] = RunState(task_id, element_id, first_seq=seq, deployment_id=self.deployment_id)
        run.deployment_id = self.deployment_id
        run.name = str(data.get("name") or run.name or element_id)
        run.type = str(data.get("type") or run.type)
        if kind == "task.ready":
            run.reached_at = at
        elif kind == "task.claimed":
            run.claimed_at = at
        elif kind == "task.unclaimed":
            run.claimed_at = None
        elif kind == "task.failed":
            run.failed_at = at
        elif kind in DATA_KINDS:
            run.completed_at, run.seq, run.failed_at = at, seq, None
        if run.reached_at is None:
            run.reached_at = self._arrival(element_id) or at
        self.reached.setdefault(element_id, run.reached_at)
        if kind in DATA_KINDS:
            self.completed_at[element_id] = at
            self.reached[element_id] = run.reached_at
            graph = _graph(deployment_graphs(self.session, self.deployment_id), self.process_id, element_id)
            cut = cut_off_by(element_id, graph)
            if cut is not None:
                self._interrupt(r for r in self.runs.values() if within(r.element_id, cut, graph))

    def _arrival(self, element_id: str) -> datetime | None:
        graph = _graph(deployment_graphs(self.session, self.deployment_id), self.process_id, element_id)
        if graph is None:
            return None
        node = graph.nodes[element_id]
        if node.attached_to:
            return self.reached.get(node.attached_to)
        times = [self.completed_at[s] for s in graph.sources_of(element_id) if s in self.completed_at]
        return max(times) if times else None

    def deltas(self) -> tuple[dict[tuple[int, str], dict[str, Any]], Buckets]:
        """Return what the changed runs add to (and take from) the figures and the buckets."""
        figures: dict[tuple[int, str], dict[str, Any]] = {}
        buckets: Buckets = {}
        for task_id in self.changed:
            old, new = self.before.get(task_id), self.runs[task_id].contribution()
            if old == new:
                continue
            for contribution, sign in ((old, -1), (new, 1)):
                if contribution is not None:
                    _add(figures, buckets, contribution, sign)
        return figures, buckets


def _get(ev: Any, name: str) -> Any:
    return ev[name] if isinstance(ev, dict) else getattr(ev, name)


def _add(figures: dict[tuple[int, str], dict[str, Any]], buckets: Buckets,
         contribution: tuple[int, str, str, str | None, float | None, float | None], sign: int) -> None:
    deployment_id, element_id, state, name, waiting, working = contribution
    figure = figures.setdefault((deployment_id, element_id), {
        "deployment_id": deployment_id, "element_id": element_id, "name": (name or element_id)[:300],
        "executions": 0, "active": 0, "failed": 0, "waiting_count": 0, "waiting_sum": 0.0,
        "working_count": 0, "working_sum": 0.0})
    counter = {"completed": "executions", "failed": "failed", "active": "active"}.get(state)
    if counter is not None:  # an interrupted run is neither
        figure[counter] += sign
    for measure, seconds in zip(MEASURES, (waiting, working), strict=True):
        if seconds is not None:
            figure[f"{measure}_count"] += sign
            figure[f"{measure}_sum"] += sign * seconds
            key = (deployment_id, element_id, measure, bucket_of(seconds))
            runs, low, high = buckets.get(key, (0, None, None))
            if sign > 0:
                low, high = min(low, seconds) if low is not None else seconds, max(high or 0.0, seconds)
            buckets[key] = (runs + sign, low, high)


# --- writing -------------------------------------------------------------------------------
class RunCache:
    """Each instance's runs as the last committed trigger left them, per database.

    A trigger *takes* an instance's runs if they are at the instance's audit head (its seq and
    hash), so it need not read ``element_run`` back; they go back only once its transaction
    commits, so a rolled-back trigger leaves nothing behind and the next one reads the rows.
    Another process's triggers move the audit head, so its entries miss; :func:`rebuild` clears
    only this process's cache (rebuild with the server and workers stopped).
    """

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._items: weakref.WeakKeyDictionary[Any, OrderedDict[int, tuple[int, str, dict[str, RunState]]]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()

    def take(self, bind: Any, instance_id: int, seq: int, head: str) -> dict[str, RunState] | None:
        """Remove and return the runs of an instance whose trail ends at event ``seq`` with ``head``."""
        with self._lock:
            item = self._items.get(bind, {}).pop(instance_id, None)
        return item[2] if item is not None and item[:2] == (seq, head) else None

    def put(self, bind: Any, instance_id: int, seq: int, head: str, runs: dict[str, RunState]) -> None:
        """Keep the runs of an instance whose trail now ends at event ``seq`` with ``head``."""
        with self._lock:
            items = self._items.setdefault(bind, OrderedDict())
            items[instance_id] = (seq, head, runs)
            items.move_to_end(instance_id)
            while len(items) > self.size:
                items.popitem(last=False)

    def clear(self, bind: Any) -> None:
        """Forget every instance's runs on one database (its rows were rewritten)."""
        with self._lock:
            self._items.pop(bind, None)


runs_cache = RunCache()


@dataclass(frozen=True)
class _Upserts:
    """The three upserts of the roll-ups on one dialect, built once (each runs as one executemany)."""

    runs: Any
    figures: Any
    buckets: Any


_upserts: dict[str, _Upserts] = {}
_COUNTERS = ("executions", "active", "failed", "waiting_count", "waiting_sum", "working_count", "working_sum")
_RUN_COLUMNS = [c.name for c in ElementRun.__table__.columns]


def _statements(session: Session) -> _Upserts:
    dialect = session.get_bind().dialect.name
    built = _upserts.get(dialect)
    if built is None:
        pg = dialect == "postgresql"
        insert = postgresql.insert if pg else sqlite.insert
        runs = insert(ElementRun.__table__)
        runs = runs.on_conflict_do_update(index_elements=["task_id"], set_={
            c: runs.excluded[c] for c in _RUN_COLUMNS if c != "task_id"})
        fig_table = ElementFigure.__table__
        figures = insert(fig_table)
        figures = figures.on_conflict_do_update(
            index_elements=["deployment_id", "element_id"],
            set_={c: fig_table.c[c] + figures.excluded[c] for c in _COUNTERS})
        table = ElementFigureBucket.__table__
        buckets = insert(table)
        least, greatest = (func.least, func.greatest) if pg else (func.min, func.max)
        new = buckets.excluded
        buckets = buckets.on_conflict_do_update(
            index_elements=["deployment_id", "element_id", "measure", "bucket"],
            set_={"runs": table.c.runs + new.runs,
                  "low": case((new.low.is_(None), table.c.low), (table.c.low.is_(None), new.low),
                              else_=least(table.c.low, new.low)),
                  "high": case((new.high.is_(None), table.c.high), (table.c.high.is_(None), new.high),
                               else_=greatest(table.c.high, new.high))})
        built = _upserts[dialect] = _Upserts(runs, figures, buckets)
    return built


def _save(session: Session, instance_id: int, fold: Fold, writes: Writes) -> None:
    if not fold.changed:
        return
    rows = [fold.runs[t].to_row(instance_id) for t in sorted(fold.changed)]
    writes.upsert(_statements(session).runs, rows)
    if session.get_bind().dialect.name != "sqlite":  # SQLite's triggers on element_run keep the figures (0023)
        _add_totals(session, *fold.deltas(), writes)


def _add_totals(session: Session, figures: dict[tuple[int, str], dict[str, Any]], buckets: Buckets,
                writes: Writes) -> None:
    statements = _statements(session)
    writes.upsert(statements.figures, [figures[k] for k in sorted(figures)])
    rows = [{"deployment_id": d, "element_id": e, "measure": m, "bucket": b, "runs": n, "low": low, "high": high}
            for (d, e, m, b), (n, low, high) in sorted(buckets.items()) if n or low is not None]
    writes.upsert(statements.buckets, rows)


def record(session: Session, instance: Instance, events: list[dict[str, Any]], writes: Writes) -> None:
    """Fold events just written to an instance's trail into its runs and its deployment's figures,
    adding one upsert per table to ``writes`` (the trigger's one write).

    Called before the instance row's audit head moves on to ``events[-1]``.
    """
    bind = session.get_bind()
    first = events[0]["seq"]
    runs = runs_cache.take(bind, instance.id, instance.audit_seq, instance.audit_head or "") if first > 1 else {}
    if any(e["task_id"] and e["element_id"] or e["kind"] in ("instance.migrated", *ENDS) for e in events):
        if runs is None:
            runs = {r.task_id: _from_row(r) for r in session.scalars(
                select(ElementRun).where(ElementRun.instance_id == instance.id))}
        fold = Fold(session, instance.process_id, instance.deployment_id, runs)
        fold.feed(events)
        _save(session, instance.id, fold, writes)
    if runs is not None:
        instance_id, seq, head, kept = instance.id, events[-1]["seq"], events[-1]["hash"], runs
        after_commit(session, lambda: runs_cache.put(bind, instance_id, seq, head, kept))


# --- rebuilding ------------------------------------------------------------------------------
#: the ``database_mark`` row a migration writes when the roll-ups were kept by older rules (0022)
STALE_MARK = "element_rollups"


def rebuild(session: Session, batch: int = 500) -> int:
    """Recompute every run and figure from the audit trail; return the number of runs."""
    runs_cache.clear(session.get_bind())
    session.execute(delete(DatabaseMark).where(DatabaseMark.name == STALE_MARK))
    session.execute(delete(ElementFigureBucket))
    session.execute(delete(ElementFigure))
    session.execute(delete(ElementRun))
    instances = session.execute(select(Instance.id, Instance.process_id, Instance.deployment_id)
                                .order_by(Instance.id)).all()
    total = 0
    for start in range(0, len(instances), batch):
        chunk = {i: (p, d) for i, p, d in instances[start:start + batch]}
        trail: dict[int, list[AuditEvent]] = defaultdict(list)
        for ev in session.scalars(select(AuditEvent).where(AuditEvent.instance_id.in_(list(chunk)))
                                  .order_by(AuditEvent.instance_id, AuditEvent.seq)):
            trail[ev.instance_id or 0].append(ev)
        for instance_id, events in trail.items():
            process_id, deployment_id = chunk[instance_id]
            fold = Fold(session, process_id, deployment_id, {})
            fold.feed(events)
            writes = Writes()
            _save(session, instance_id, fold, writes)
            writes.flush(session)
            total += len(fold.runs)
    return total


def rebuild_if_stale(session: Session) -> int | None:
    """Rebuild the roll-ups if a migration marked them stale; return the number of runs, or None."""
    return rebuild(session) if session.get(DatabaseMark, STALE_MARK) is not None else None


def rebuild_totals(session: Session) -> None:
    """Recompute the figures and buckets from ``element_run`` (after runs were copied in bulk)."""
    runs_cache.clear(session.get_bind())
    session.execute(delete(ElementFigureBucket))
    session.execute(delete(ElementFigure))
    figures: dict[tuple[int, str], dict[str, Any]] = {}
    buckets: Buckets = {}
    names = {(d, e): n for d, e, n in session.execute(
        select(ElementRun.deployment_id, ElementRun.element_id, func.min(ElementRun.name))
        .group_by(ElementRun.deployment_id, ElementRun.element_id))}
    rows = session.execute(select(ElementRun.deployment_id, ElementRun.element_id, ElementRun.state,
                                  ElementRun.waiting_seconds, ElementRun.working_seconds)
                           .execution_options(yield_per=20_000))
    for deployment_id, element_id, state, waiting, working in rows:
        done = state == "completed"
        _add(figures, buckets, (deployment_id, element_id, state, names[(deployment_id, element_id)],
                                waiting if done else None, working if done else None), 1)
    writes = Writes()
    _add_totals(session, figures, buckets, writes)
    writes.flush(session)


# --- reading -------------------------------------------------------------------------------
def heatmap(session: Session, deployment_id: int, process_id: str) -> dict[str, Any]:
    """Return executions and waiting/working times per element of a process version (as
    :func:`engine.trace.heatmap` computes them from the trail), read from the roll-ups."""
    graph = deployment_graphs(session, deployment_id).get(process_id)
    if graph is None:
        raise NotFound("process '{process_id}' is not part of deployment {deployment_id}",
                       params={"process_id": process_id, "deployment_id": deployment_id})
    counts: dict[tuple[str, str], dict[int, tuple[int, float | None, float | None]]] = defaultdict(dict)
    for element_id, measure, bucket, runs, low, high in session.execute(
            select(ElementFigureBucket.element_id, ElementFigureBucket.measure, ElementFigureBucket.bucket,
                   ElementFigureBucket.runs, ElementFigureBucket.low, ElementFigureBucket.high)
            .where(ElementFigureBucket.deployment_id == deployment_id)):
        if runs and element_id in graph.nodes:
            counts[(element_id, measure)][bucket] = (runs, low, high)
    elements = []
    for fig in session.scalars(select(ElementFigure).where(ElementFigure.deployment_id == deployment_id)
                               .order_by(ElementFigure.element_id)):
        if fig.element_id not in graph.nodes or not (fig.executions or fig.active or fig.failed):
            continue
        avg = (lambda total, n: round(total / n, 3) if n else None)  # noqa: E731
        elements.append({"element_id": fig.element_id, "name": fig.name, "executions": fig.executions,
                         "active": fig.active, "failed": fig.failed,
                         "waiting_avg": avg(fig.waiting_sum, fig.waiting_count),
                         "waiting_p90": percentile_of(counts[(fig.element_id, "waiting")], 90),
                         "working_avg": avg(fig.working_sum, fig.working_count),
                         "working_p90": percentile_of(counts[(fig.element_id, "working")], 90)})
    instances = session.scalar(select(func.count()).select_from(Instance)  # of this process, not the whole bundle
                               .where(Instance.deployment_id == deployment_id, Instance.process_id == process_id)) or 0
    return {"deployment_id": deployment_id, "process_id": process_id, "instances": instances,
            "elements": elements, "max_executions": max((e["executions"] for e in elements), default=0),
            "max_waiting_p90": max((e["waiting_p90"] or 0 for e in elements), default=0)}
