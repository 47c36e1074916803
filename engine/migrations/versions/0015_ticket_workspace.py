"""Ticket workspace: notes, call log, attachments, customer records

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ticket_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_number', sa.String(length=32), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=160), nullable=False),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=120), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachment')),
    )
    op.create_index(op.f('ix_ticket_attachment_ticket_number'), 'ticket_attachment', ['ticket_number'])
    op.create_index(op.f('ix_ticket_attachment_instance_id'), 'ticket_attachment', ['instance_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_ticket_attachment_instance_id'), table_name='ticket_attachment')
    op.drop_index(op.f('ix_ticket_attachment_ticket_number'), table_name='ticket_attachment')
    op.drop_table('ticket_attachment')
