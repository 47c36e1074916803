"""Marks on the database itself (what it is for: production, demo, test)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('database_mark',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('set_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_database_mark'))
    )


def downgrade() -> None:
    op.drop_table('database_mark')
