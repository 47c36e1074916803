"""Element runs keep their waiting and working buckets; on SQLite triggers on element_run keep the figures

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 09:40:00.000000

A trigger used to send three upserts for the roll-ups (``element_run``, ``element_figure``,
``element_figure_bucket``). On SQLite, which has no data-modifying CTEs to send them as one,
triggers on ``element_run`` now add each run's contribution to its element's figure and bucket
(and take back the one it replaced), so a trigger sends one upsert; the bucket of each duration
is computed in Python (a logarithm) and kept on the run. PostgreSQL keeps writing the three as
parts of the trigger's one statement (engine/writes.py) and has no triggers.
"""
import math

from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

#: engine.rollup_elements.bucket_of as of this revision (a migration does not import today's code)
RATIO, SMALLEST = 1.02, 0.001


def _bucket(seconds: float | None) -> int | None:
    if seconds is None:
        return None
    if seconds <= 0:
        return 0
    return 1 + max(0, math.floor(math.log(seconds / SMALLEST) / math.log(RATIO) + 1e-9))


def _counts(row: str) -> dict[str, str]:
    """Return what a run (``NEW`` or ``OLD``) adds to each counter of its element's figure."""
    done = f"{row}.state = 'completed'"
    return {"executions": f"({done})", "active": f"({row}.state = 'active')", "failed": f"({row}.state = 'failed')",
            **{f"{m}_count": f"({done} AND {row}.{m}_seconds IS NOT NULL)" for m in ("waiting", "working")},
            **{f"{m}_sum": f"(CASE WHEN {done} THEN COALESCE({row}.{m}_seconds, 0.0) ELSE 0.0 END)"
               for m in ("waiting", "working")}}


def _add(row: str) -> str:
    """Return the statements that add a run's contribution to the figures."""
    counts = _counts(row)
    figure = (f"INSERT INTO element_figure (deployment_id, element_id, name, {', '.join(counts)}) "
              f"SELECT {row}.deployment_id, {row}.element_id, COALESCE(NULLIF({row}.name, ''), {row}.element_id), "
              f"{', '.join(counts.values())} WHERE true "
              f"ON CONFLICT (deployment_id, element_id) DO UPDATE SET "
              + ", ".join(f"{c} = {c} + excluded.{c}" for c in counts) + ";")
    buckets = "".join(
        f"INSERT INTO element_figure_bucket (deployment_id, element_id, measure, bucket, runs, low, high) "
        f"SELECT {row}.deployment_id, {row}.element_id, '{m}', {row}.{m}_bucket, 1, {row}.{m}_seconds, "
        f"{row}.{m}_seconds WHERE {row}.state = 'completed' AND {row}.{m}_seconds IS NOT NULL "
        f"ON CONFLICT (deployment_id, element_id, measure, bucket) DO UPDATE SET runs = runs + 1, "
        f"low = min(COALESCE(low, excluded.low), excluded.low), high = max(COALESCE(high, excluded.high), excluded.high);"
        for m in ("waiting", "working"))
    return figure + buckets


def _take_back(row: str) -> str:
    """Return the statements that take a run's contribution back from the figures (its bucket's
    fewest and most seconds stay, as the incremental upserts left them)."""
    counts = _counts(row)
    figure = ("UPDATE element_figure SET " + ", ".join(f"{c} = {c} - {v}" for c, v in counts.items())
              + f" WHERE deployment_id = {row}.deployment_id AND element_id = {row}.element_id;")
    buckets = "".join(
        f"UPDATE element_figure_bucket SET runs = runs - 1 WHERE {row}.state = 'completed' "
        f"AND {row}.{m}_seconds IS NOT NULL AND deployment_id = {row}.deployment_id "
        f"AND element_id = {row}.element_id AND measure = '{m}' AND bucket = {row}.{m}_bucket;"
        for m in ("waiting", "working"))
    return figure + buckets


#: a run's contribution changes with its version, element, state, or (once completed) its seconds
_CHANGED = ("OLD.deployment_id IS NOT NEW.deployment_id OR OLD.element_id IS NOT NEW.element_id "
            "OR OLD.state IS NOT NEW.state OR (NEW.state = 'completed' AND "
            "(OLD.waiting_seconds IS NOT NEW.waiting_seconds OR OLD.working_seconds IS NOT NEW.working_seconds))")
TRIGGERS = {
    "element_run_figures_insert": f"AFTER INSERT ON element_run BEGIN {_add('NEW')} END",
    "element_run_figures_update": f"AFTER UPDATE ON element_run WHEN {_CHANGED} "
                                  f"BEGIN {_take_back('OLD')} {_add('NEW')} END",
}


def upgrade() -> None:
    op.add_column('element_run', sa.Column('waiting_bucket', sa.Integer(), nullable=True))
    op.add_column('element_run', sa.Column('working_bucket', sa.Integer(), nullable=True))
    bind = op.get_bind()
    runs = bind.execute(sa.text('SELECT task_id, waiting_seconds, working_seconds FROM element_run '
                                'WHERE waiting_seconds IS NOT NULL OR working_seconds IS NOT NULL')).all()
    if runs:
        bind.execute(sa.text('UPDATE element_run SET waiting_bucket = :waiting, working_bucket = :working '
                             'WHERE task_id = :task_id'),
                     [{"task_id": t, "waiting": _bucket(w), "working": _bucket(k)} for t, w, k in runs])
    if bind.dialect.name == 'sqlite':
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for column in ('working_bucket', 'waiting_bucket'):  # SQLite drops a plain column in place since 3.35
        op.execute(f'ALTER TABLE element_run DROP COLUMN {column}')
