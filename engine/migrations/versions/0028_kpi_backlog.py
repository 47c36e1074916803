"""Slot 28: the backlog's counters

kpi_backlog counts the open tickets per dimension value (``dim`` ``all``: every ticket; pairs of dimensions
as ``kpi_open`` keeps them), business day opened, priority, stage (``''``: none) and the hour they go over
the resolution target in (an epoch hour number). The dashboard's backlog sums them, the hours already past
as over target, and counts the current hour from the facts (by ``ix_kpi_ticket_opened_at``), so it no
longer counts every open ticket. The first KPI refresh after this migration fills it (the roll-ups'
settings key changed).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 01:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kpi_backlog',
                    sa.Column('dim', sa.String(length=16), nullable=False),
                    sa.Column('value', sa.String(length=64), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('priority', sa.String(length=16), nullable=False),
                    sa.Column('stage', sa.String(length=200), nullable=False),
                    sa.Column('hour', sa.Integer(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('dim', 'value', 'day', 'priority', 'stage', 'hour',
                                            name=op.f('pk_kpi_backlog')))
    op.create_index('ix_kpi_backlog_day', 'kpi_backlog', ['day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kpi_backlog_day', table_name='kpi_backlog')
    op.drop_table('kpi_backlog')
