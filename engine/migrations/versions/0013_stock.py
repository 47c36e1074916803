"""Warehouse: stock per part and location, movements, reservations, back-orders, RMA, shipments

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 00:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table('parts_part', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reorder_point', sa.Integer(), server_default='2', nullable=False))

    op.create_table('stock_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('warehouse', sa.String(length=16), nullable=False),
    sa.Column('on_hand_change', sa.Integer(), nullable=False),
    sa.Column('reserved_change', sa.Integer(), nullable=False),
    sa.Column('available_after', sa.Integer(), nullable=False),
    sa.Column('reserved_after', sa.Integer(), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['parts_part.sku'], name=op.f('fk_stock_movement_sku_parts_part')),
    sa.ForeignKeyConstraint(['warehouse'], ['parts_warehouse.code'],
                            name=op.f('fk_stock_movement_warehouse_parts_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movement'))
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movement_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_sku'), ['sku'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_ticket_number'), ['ticket_number'], unique=False)

    op.create_table('stock_rma_receipt',
    sa.Column('rma_number', sa.String(length=40), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=False),
    sa.Column('received_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('condition', sa.String(length=1000), nullable=False),
    sa.Column('process_notified', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('rma_number', name=op.f('pk_stock_rma_receipt'))
    )
    with op.batch_alter_table('stock_rma_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_rma_receipt_ticket_number'), ['ticket_number'], unique=False)

    op.create_table('stock_shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=False),
    sa.Column('rma_number', sa.String(length=40), nullable=True),
    sa.Column('ship_to_name', sa.String(length=120), nullable=False),
    sa.Column('ship_to_address', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('carrier', sa.String(length=60), nullable=False),
    sa.Column('tracking_number', sa.String(length=60), nullable=False),
    sa.Column('shipped_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('shipped_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_shipment'))
    )
    with op.batch_alter_table('stock_shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_shipment_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_shipment_ticket_number'), ['ticket_number'], unique=False)

    # the warehouse's audit stream exists before its first event, so concurrent first movements
    # queue on its head row (SELECT … FOR UPDATE) instead of racing to insert it
    op.execute(sa.text("INSERT INTO audit_stream (stream, seq, head) VALUES ('warehouse', 0, :head)")
               .bindparams(head=GENESIS))


def downgrade() -> None:
    op.execute("DELETE FROM audit_stream WHERE stream = 'warehouse' AND seq = 0")
    with op.batch_alter_table('stock_shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_shipment_ticket_number'))
        batch_op.drop_index(batch_op.f('ix_stock_shipment_status'))
    op.drop_table('stock_shipment')
    with op.batch_alter_table('stock_rma_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_rma_receipt_ticket_number'))
    op.drop_table('stock_rma_receipt')
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movement_ticket_number'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_sku'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_kind'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_at'))
    op.drop_table('stock_movement')
    with op.batch_alter_table('parts_part', schema=None) as batch_op:
        batch_op.drop_column('reorder_point')
