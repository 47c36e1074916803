"""Process owner's workbench: drafts of bundles, their files, and the notes of deployments made from them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:35:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('owner_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('bundle', sa.String(length=100), nullable=False),
    sa.Column('base_deployment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['base_deployment_id'], ['deployment.id'], name=op.f('fk_owner_draft_base_deployment_id_deployment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_draft'))
    )
    op.create_table('owner_draft_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('saved_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('saved_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['owner_draft.id'], name=op.f('fk_owner_draft_file_draft_id_owner_draft'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_draft_file')),
    sa.UniqueConstraint('draft_id', 'path', name=op.f('uq_owner_draft_file_draft_id_path'))
    )
    with op.batch_alter_table('owner_draft_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_draft_file_draft_id'), ['draft_id'], unique=False)

    op.create_table('owner_draft_deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created', sa.Boolean(), nullable=False),
    sa.Column('deployed_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deployed_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_owner_draft_deployment_deployment_id_deployment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['draft_id'], ['owner_draft.id'], name=op.f('fk_owner_draft_deployment_draft_id_owner_draft'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_draft_deployment'))
    )
    with op.batch_alter_table('owner_draft_deployment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_draft_deployment_deployment_id'), ['deployment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_owner_draft_deployment_draft_id'), ['draft_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('owner_draft_deployment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_draft_deployment_draft_id'))
        batch_op.drop_index(batch_op.f('ix_owner_draft_deployment_deployment_id'))

    op.drop_table('owner_draft_deployment')
    with op.batch_alter_table('owner_draft_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_draft_file_draft_id'))

    op.drop_table('owner_draft_file')
    op.drop_table('owner_draft')
