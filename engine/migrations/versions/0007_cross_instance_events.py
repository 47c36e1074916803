"""Messages and signals between instances: signal subscriptions, undelivered messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signal_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('signal_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_signal_subscription_instance_id_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_subscription'))
    )
    with op.batch_alter_table('signal_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_subscription_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signal_subscription_signal_name'), ['signal_name'], unique=False)

    op.create_table('undelivered_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=True),
    sa.Column('message_name', sa.String(length=200), nullable=False),
    sa.Column('correlation_key', sa.String(length=200), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_undelivered_messages_instance_id_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_undelivered_messages'))
    )
    with op.batch_alter_table('undelivered_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_undelivered_messages_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_undelivered_messages_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_undelivered_messages_message_name'), ['message_name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('undelivered_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_undelivered_messages_message_name'))
        batch_op.drop_index(batch_op.f('ix_undelivered_messages_instance_id'))
        batch_op.drop_index(batch_op.f('ix_undelivered_messages_at'))

    op.drop_table('undelivered_messages')
    with op.batch_alter_table('signal_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_subscription_signal_name'))
        batch_op.drop_index(batch_op.f('ix_signal_subscription_instance_id'))

    op.drop_table('signal_subscription')
