"""Maintained roll-ups for heatmaps and per-element figures; KPI verification runs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:15:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import engine.db  # noqa: F401

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # --- KPI verification runs (analytics/verify.py, issue 19) ---------------------------
    op.create_table('kpi_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ran_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('figures', sa.Integer(), nullable=False),
    sa.Column('mismatches', sa.Integer(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_verification'))
    )
    with op.batch_alter_table('kpi_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_verification_ran_at'), ['ran_at'], unique=False)
    # --- end of KPI verification runs -------------------------------------------------------

    # --- element roll-ups for heatmaps (engine/rollup_elements.py, issue 16) ----------------
    op.create_table('element_run',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('first_seq', sa.Integer(), nullable=False),
    sa.Column('reached_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_seq', sa.Integer(), nullable=True),
    sa.Column('failed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('waiting_seconds', sa.Float(), nullable=True),
    sa.Column('working_seconds', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_element_run_instance_id_instance'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_element_run'))
    )
    with op.batch_alter_table('element_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_element_run_instance_id'), ['instance_id'], unique=False)
    op.create_table('element_figure',
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('executions', sa.Integer(), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('waiting_count', sa.Integer(), nullable=False),
    sa.Column('waiting_sum', sa.Float(), nullable=False),
    sa.Column('working_count', sa.Integer(), nullable=False),
    sa.Column('working_sum', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('deployment_id', 'element_id', name=op.f('pk_element_figure'))
    )
    op.create_table('element_figure_bucket',
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('measure', sa.String(length=8), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('deployment_id', 'element_id', 'measure', 'bucket', name=op.f('pk_element_figure_bucket'))
    )
    # --- end of element roll-ups ------------------------------------------------------------


def downgrade() -> None:
    # --- KPI verification runs (analytics/verify.py, issue 19) ---------------------------
    with op.batch_alter_table('kpi_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_verification_ran_at'))
    op.drop_table('kpi_verification')
    # --- end of KPI verification runs -------------------------------------------------------

    # --- element roll-ups for heatmaps (engine/rollup_elements.py, issue 16) ----------------
    op.drop_table('element_figure_bucket')
    op.drop_table('element_figure')
    with op.batch_alter_table('element_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_element_run_instance_id'))
    op.drop_table('element_run')
    # --- end of element roll-ups ------------------------------------------------------------
