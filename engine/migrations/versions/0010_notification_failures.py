"""Notifications that fail for good

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:35:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.String(length=16), server_default='customer', nullable=False))
        batch_op.add_column(sa.Column('failed_at', engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('alert_id', sa.Integer(), nullable=True))
    # the e-mails queued for staff so far (SLA and KPI alerts) are not customer notifications
    op.execute("UPDATE notify_outbox SET audience = 'staff' "
               "WHERE template IN ('handlers/sla.py', 'data/kpi_alerts.json')")


def downgrade() -> None:
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.drop_column('alert_id')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('audience')
