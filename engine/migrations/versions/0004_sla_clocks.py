"""SLA clocks (handlers.sla)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:50:28.645545
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('business_key', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=32), nullable=False),
    sa.Column('target_seconds', sa.Double(), nullable=False),
    sa.Column('calendar', sa.String(length=32), nullable=False),
    sa.Column('warn_share', sa.Double(), nullable=False),
    sa.Column('started_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('running_since', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consumed_seconds', sa.Double(), nullable=False),
    sa.Column('paused_seconds', sa.Double(), nullable=False),
    sa.Column('pauses', sa.JSON(), nullable=False),
    sa.Column('warn_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('warned_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('breached_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_sla_clock_instance_id_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clock')),
    sa.UniqueConstraint('instance_id', 'kind', name=op.f('uq_sla_clock_instance_id_kind'))
    )
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_clock_business_key'), ['business_key'], unique=False)
        batch_op.create_index('ix_sla_clock_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_sla_clock_status_warn_at', ['status', 'warn_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sla_clock', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_clock_status_warn_at')
        batch_op.drop_index('ix_sla_clock_status_due_at')
        batch_op.drop_index(batch_op.f('ix_sla_clock_business_key'))
    op.drop_table('sla_clock')
