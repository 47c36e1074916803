"""Slot 27: running instances found by status and process from the index alone

``ix_instance_status_process`` (status, process_id, id) replaces ``ix_instance_status`` (status): the
dashboard's requests not registered yet are the running instances of the intake process without a
ticket, and by status alone PostgreSQL read every running instance's row to test its process (100,000
instances, 18,000 running: 41 ms, now 16 ms). Queries by status alone use the new index's first column.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 23:30:00.000000
"""
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_instance_status_process', 'instance', ['status', 'process_id', 'id'], unique=False)
    op.drop_index('ix_instance_status', table_name='instance')


def downgrade() -> None:
    op.create_index('ix_instance_status', 'instance', ['status'], unique=False)
    op.drop_index('ix_instance_status_process', table_name='instance')
