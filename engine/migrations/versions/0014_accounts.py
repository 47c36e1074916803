"""Administration: user accounts' language, teams, skills, settings, shared sign-in limits

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 00:15:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import engine.db  # noqa: F401

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
