"""Slot 24: KPI open-ticket counters, and the fact indexes the drill-down and their current hour read

kpi_open counts the open tickets that become overdue — their first response (``response``) or
their resolution target (``late``) — per hour they become due in (an epoch hour number), per
business day opened and per dimension value (``dim`` ``all``: every ticket). The dashboard sums
the hours already past and counts the current hour from the facts (by the new indexes on
``kpi_ticket.response_due_at`` and ``opened_at``), so "response overdue" and "open over target"
no longer scan the backlog. The first KPI refresh after this migration fills it (the roll-ups'
settings key changed).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 09:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kpi_open',
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('hour', sa.Integer(), nullable=False),
                    sa.Column('dim', sa.String(length=16), nullable=False),
                    sa.Column('value', sa.String(length=64), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('week', sa.Date(), nullable=False),
                    sa.Column('month', sa.String(length=7), nullable=False),
                    sa.Column('quarter', sa.String(length=7), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('kind', 'hour', 'dim', 'value', 'day', name=op.f('pk_kpi_open')))
    op.create_index('ix_kpi_open_day', 'kpi_open', ['day'], unique=False)
    op.create_index('ix_kpi_ticket_opened_at', 'kpi_ticket', ['opened_at', 'ticket_id'], unique=False)
    op.create_index('ix_kpi_ticket_response_due_at', 'kpi_ticket', ['response_due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kpi_ticket_response_due_at', table_name='kpi_ticket')
    op.drop_index('ix_kpi_ticket_opened_at', table_name='kpi_ticket')
    op.drop_index('ix_kpi_open_day', table_name='kpi_open')
    op.drop_table('kpi_open')
