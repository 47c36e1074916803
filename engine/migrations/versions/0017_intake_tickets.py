"""Ticket numbers at arrival; knowledge-base deflections; appointments

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 00:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'knowledge_deflection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('model', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['knowledge_article.id'], ondelete='CASCADE',
                                name=op.f('fk_knowledge_deflection_article_id_knowledge_article')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_deflection')),
    )
    op.create_index(op.f('ix_knowledge_deflection_article_id'), 'knowledge_deflection', ['article_id'])
    op.create_index(op.f('ix_knowledge_deflection_created_at'), 'knowledge_deflection', ['created_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_knowledge_deflection_created_at'), table_name='knowledge_deflection')
    op.drop_index(op.f('ix_knowledge_deflection_article_id'), table_name='knowledge_deflection')
    op.drop_table('knowledge_deflection')
