"""API keys of channel integrations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('last_used_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
        sa.UniqueConstraint('name', name=op.f('uq_api_key_name')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_key_token_hash')),
    )


def downgrade() -> None:
    op.drop_table('api_key')
