"""Pilots: which deployment new tickets start on, and which side of a pilot each started on

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:35:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pilot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('base_deployment_id', sa.Integer(), nullable=False),
    sa.Column('share', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('region', sa.String(length=32), nullable=True),
    sa.Column('product_line', sa.String(length=32), nullable=True),
    sa.Column('models', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('piloted', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('ended_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['base_deployment_id'], ['deployment.id'], name=op.f('fk_pilot_base_deployment_id_deployment')),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_pilot_deployment_id_deployment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot'))
    )
    with op.batch_alter_table('pilot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_process_id'), ['process_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pilot_status'), ['status'], unique=False)

    op.create_table('pilot_start',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('on_pilot', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_pilot_start_deployment_id_deployment')),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_pilot_start_instance_id_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_pilot_start_pilot_id_pilot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_pilot_start'))
    )
    with op.batch_alter_table('pilot_start', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_start_pilot_id'), ['pilot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pilot_start', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_start_pilot_id'))

    op.drop_table('pilot_start')
    with op.batch_alter_table('pilot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_status'))
        batch_op.drop_index(batch_op.f('ix_pilot_process_id'))

    op.drop_table('pilot')
