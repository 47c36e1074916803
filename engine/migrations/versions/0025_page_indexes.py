"""Slot 25: page indexes — the tasklist's due order

``ix_work_item_due_order`` (due_at, created_at, task_id) replaces ``ix_work_item_due_at`` (its
prefix, so every lookup by due time still has it): the tasklist sorted by due time reads the
tasks with a due time of their own along it, in the page's whole order, without sorting them
and without touching the table. At 14,600 open tasks on PostgreSQL page 200's ids take 13-23 ms
instead of 69-173 ms (EXPLAIN ANALYZE, loaded machine).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 09:40:00.000000
"""
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_work_item_due_order', 'work_item', ['due_at', 'created_at', 'task_id'], unique=False)
    op.drop_index('ix_work_item_due_at', table_name='work_item')


def downgrade() -> None:
    op.create_index('ix_work_item_due_at', 'work_item', ['due_at'], unique=False)
    op.drop_index('ix_work_item_due_order', table_name='work_item')
