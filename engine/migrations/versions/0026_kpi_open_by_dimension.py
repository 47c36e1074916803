"""Slot 26: the open tickets' counters read by dimension value

``ix_kpi_open_dim_value_day`` (dim, value, day): a figure reads the counters of one dimension (``all``, a
channel, a pair such as a channel's product lines) over a range of days; by the day index alone it read every
dimension's rows of those days, and a pair of dimensions keeps up to a hundred values an hour. The first KPI
refresh after this migration also fills the pairs' rows of ``kpi_open`` and ``kpi_histogram`` (the roll-ups'
settings key changed).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 22:45:00.000000
"""
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_kpi_open_dim_value_day', 'kpi_open', ['dim', 'value', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kpi_open_dim_value_day', table_name='kpi_open')
