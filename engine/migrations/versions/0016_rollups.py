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
    pass


def downgrade() -> None:
    pass
