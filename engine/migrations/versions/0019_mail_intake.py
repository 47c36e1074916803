"""Slot 19: mail intake

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 03:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mail_intake',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=True),
        sa.Column('received_at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('sender', sa.String(length=200), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('ticket_number', sa.String(length=32), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_intake')),
        sa.UniqueConstraint('message_id', name=op.f('uq_mail_intake_message_id')),
    )
    op.create_index(op.f('ix_mail_intake_received_at'), 'mail_intake', ['received_at'])
    op.create_index(op.f('ix_mail_intake_outcome'), 'mail_intake', ['outcome'])
    op.create_index(op.f('ix_mail_intake_ticket_number'), 'mail_intake', ['ticket_number'])


def downgrade() -> None:
    op.drop_index(op.f('ix_mail_intake_ticket_number'), table_name='mail_intake')
    op.drop_index(op.f('ix_mail_intake_outcome'), table_name='mail_intake')
    op.drop_index(op.f('ix_mail_intake_received_at'), table_name='mail_intake')
    op.drop_table('mail_intake')
