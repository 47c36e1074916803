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
    op.create_table(
        'ticket_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_number', sa.String(length=32), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('author', sa.String(length=120), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_activity')),
    )
    op.create_index(op.f('ix_ticket_activity_ticket_number'), 'ticket_activity', ['ticket_number'])
    op.create_table(
        'customer_address',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['ticket_customer.id'], ondelete='CASCADE',
                                name=op.f('fk_customer_address_customer_id_ticket_customer')),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_address')),
    )


def downgrade() -> None:
    op.drop_table('customer_address')
    op.drop_index(op.f('ix_ticket_activity_ticket_number'), table_name='ticket_activity')
    op.drop_table('ticket_activity')
    op.drop_index(op.f('ix_ticket_attachment_instance_id'), table_name='ticket_attachment')
    op.drop_index(op.f('ix_ticket_attachment_ticket_number'), table_name='ticket_attachment')
    op.drop_table('ticket_attachment')
