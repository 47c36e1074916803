"""Slot 21: KPI roll-ups by at most one dimension, and the duration histograms medians are read from

kpi_day (ticket counters per day, for all tickets and per channel, product line, priority, team),
kpi_task_day (task runs and times per day and task type, for all and per channel, line, priority)
and kpi_histogram (per day and dimension value — and task type — how many first-response,
resolution, waiting and working times fell in each of 201 log-spaced buckets). The first KPI
refresh after this migration fills them from the facts (the roll-ups' settings key changed).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 06:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

#: the ticket counters as analytics.counters had them at this revision (sums are floats)
COUNTERS = ['tickets', 'open', 'closed', 'responded', 'response_met', 'response_failed', 'resolved', 'over_target', 'resolution_met', 'resolution_missed', 'resolved_ok', 'fcr', 'repeat', 'parts', 'backordered', 'qa_reviewed', 'breached', 'reopened', 'response_seconds', 'resolution_seconds', 'repeat_contacts', 'qa_total', 'labour_cost', 'parts_cost', 'handling_cost', 'csat_1', 'csat_2', 'csat_3', 'csat_4', 'csat_5', 'nps_0', 'nps_1', 'nps_2', 'nps_3', 'nps_4', 'nps_5', 'nps_6', 'nps_7', 'nps_8', 'nps_9', 'nps_10', 'res_0', 'res_1', 'res_2', 'res_3', 'res_4', 'res_5', 'res_6', 'resp_0', 'resp_1', 'resp_2', 'resp_3', 'resp_4', 'resp_5']
SUMS = ['response_seconds', 'resolution_seconds', 'qa_total', 'labour_cost', 'parts_cost', 'handling_cost']
BUCKETS = 201


def _counters() -> list[sa.Column]:
    return [sa.Column(name, sa.Double() if name in SUMS else sa.Integer(), nullable=True) for name in COUNTERS]


def _day_keys() -> list[sa.Column]:
    return [sa.Column('dim', sa.String(length=16), nullable=False),
            sa.Column('day', sa.Date(), nullable=False),
            sa.Column('value', sa.String(length=64), nullable=False),
            sa.Column('week', sa.Date(), nullable=False),
            sa.Column('month', sa.String(length=7), nullable=False),
            sa.Column('quarter', sa.String(length=7), nullable=False)]


def upgrade() -> None:
    op.create_table('kpi_day', *_day_keys(), *_counters(),
                    sa.PrimaryKeyConstraint('dim', 'day', 'value', name=op.f('pk_kpi_day')))
    op.create_index('ix_kpi_day_day', 'kpi_day', ['day'], unique=False)
    op.create_table('kpi_task_day', *_day_keys(),
                    sa.Column('element_id', sa.String(length=200), nullable=False),
                    sa.Column('role', sa.String(length=64), nullable=False),
                    sa.Column('name', sa.String(length=300), nullable=False),
                    sa.Column('runs', sa.Integer(), nullable=False),
                    sa.Column('waiting_runs', sa.Integer(), nullable=False),
                    sa.Column('waiting_seconds', sa.Double(), nullable=False),
                    sa.Column('working_seconds', sa.Double(), nullable=False),
                    sa.PrimaryKeyConstraint('dim', 'day', 'value', 'element_id', 'role', name=op.f('pk_kpi_task_day')))
    op.create_index('ix_kpi_task_day_day', 'kpi_task_day', ['day'], unique=False)
    op.create_table('kpi_histogram',
                    sa.Column('measure', sa.String(length=16), nullable=False),
                    *_day_keys(),
                    sa.Column('element_id', sa.String(length=200), nullable=False),
                    sa.Column('role', sa.String(length=64), nullable=False),
                    *(sa.Column(f'b{i}', sa.Integer(), nullable=True) for i in range(BUCKETS)),
                    sa.PrimaryKeyConstraint('measure', 'dim', 'day', 'value', 'element_id', 'role',
                                            name=op.f('pk_kpi_histogram')))
    op.create_index('ix_kpi_histogram_day', 'kpi_histogram', ['day'], unique=False)


def downgrade() -> None:
    for table in ('kpi_histogram', 'kpi_task_day', 'kpi_day'):
        op.drop_index(f'ix_{table}_day', table_name=table)
        op.drop_table(table)
