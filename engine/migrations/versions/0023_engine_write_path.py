"""(reserved slot: engine write path)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 09:40:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
