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


def downgrade() -> None:
    # --- KPI verification runs (analytics/verify.py, issue 19) ---------------------------
    with op.batch_alter_table('kpi_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_verification_ran_at'))
    op.drop_table('kpi_verification')
    # --- end of KPI verification runs -------------------------------------------------------
