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
    op.create_table(
        'app_setting',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_app_setting')),
    )
    op.create_table(
        'rate_limit_bucket',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('hits', sa.JSON(), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_bucket')),
    )
    op.create_index(op.f('ix_rate_limit_bucket_updated_at'), 'rate_limit_bucket', ['updated_at'])
    # Nobody could choose a language before: the stored 'en' was the column's default, not a
    # choice. An empty language means "follow the browser" until the user picks one on /account.
    op.execute("UPDATE app_user SET language = '' WHERE language = 'en'")


def downgrade() -> None:
    op.execute("UPDATE app_user SET language = 'en' WHERE language = ''")
    op.drop_index(op.f('ix_rate_limit_bucket_updated_at'), table_name='rate_limit_bucket')
    op.drop_table('rate_limit_bucket')
    op.drop_table('app_setting')
