"""KPI facts, alerts and root-cause analyses (analytics), and the indexes that find what changed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kpi_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('kpi', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('crossing', sa.Integer(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('threshold', sa.Double(), nullable=False),
    sa.Column('basis', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('raised_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_alert')),
    sa.UniqueConstraint('rule', 'period_key', 'crossing', name=op.f('uq_kpi_alert_rule_period_key_crossing'))
    )
    with op.batch_alter_table('kpi_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_alert_rule'), ['rule'], unique=False)

    op.create_table('kpi_daily',
    sa.Column('tickets', sa.Integer(), nullable=True),
    sa.Column('open', sa.Integer(), nullable=True),
    sa.Column('closed', sa.Integer(), nullable=True),
    sa.Column('responded', sa.Integer(), nullable=True),
    sa.Column('response_met', sa.Integer(), nullable=True),
    sa.Column('response_failed', sa.Integer(), nullable=True),
    sa.Column('resolved', sa.Integer(), nullable=True),
    sa.Column('over_target', sa.Integer(), nullable=True),
    sa.Column('resolution_met', sa.Integer(), nullable=True),
    sa.Column('resolution_missed', sa.Integer(), nullable=True),
    sa.Column('resolved_ok', sa.Integer(), nullable=True),
    sa.Column('fcr', sa.Integer(), nullable=True),
    sa.Column('repeat', sa.Integer(), nullable=True),
    sa.Column('parts', sa.Integer(), nullable=True),
    sa.Column('backordered', sa.Integer(), nullable=True),
    sa.Column('qa_reviewed', sa.Integer(), nullable=True),
    sa.Column('breached', sa.Integer(), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=True),
    sa.Column('response_seconds', sa.Float(), nullable=True),
    sa.Column('resolution_seconds', sa.Float(), nullable=True),
    sa.Column('repeat_contacts', sa.Integer(), nullable=True),
    sa.Column('qa_total', sa.Float(), nullable=True),
    sa.Column('labour_cost', sa.Float(), nullable=True),
    sa.Column('parts_cost', sa.Float(), nullable=True),
    sa.Column('handling_cost', sa.Float(), nullable=True),
    sa.Column('csat_1', sa.Integer(), nullable=True),
    sa.Column('csat_2', sa.Integer(), nullable=True),
    sa.Column('csat_3', sa.Integer(), nullable=True),
    sa.Column('csat_4', sa.Integer(), nullable=True),
    sa.Column('csat_5', sa.Integer(), nullable=True),
    sa.Column('nps_0', sa.Integer(), nullable=True),
    sa.Column('nps_1', sa.Integer(), nullable=True),
    sa.Column('nps_2', sa.Integer(), nullable=True),
    sa.Column('nps_3', sa.Integer(), nullable=True),
    sa.Column('nps_4', sa.Integer(), nullable=True),
    sa.Column('nps_5', sa.Integer(), nullable=True),
    sa.Column('nps_6', sa.Integer(), nullable=True),
    sa.Column('nps_7', sa.Integer(), nullable=True),
    sa.Column('nps_8', sa.Integer(), nullable=True),
    sa.Column('nps_9', sa.Integer(), nullable=True),
    sa.Column('nps_10', sa.Integer(), nullable=True),
    sa.Column('res_0', sa.Integer(), nullable=True),
    sa.Column('res_1', sa.Integer(), nullable=True),
    sa.Column('res_2', sa.Integer(), nullable=True),
    sa.Column('res_3', sa.Integer(), nullable=True),
    sa.Column('res_4', sa.Integer(), nullable=True),
    sa.Column('res_5', sa.Integer(), nullable=True),
    sa.Column('res_6', sa.Integer(), nullable=True),
    sa.Column('resp_0', sa.Integer(), nullable=True),
    sa.Column('resp_1', sa.Integer(), nullable=True),
    sa.Column('resp_2', sa.Integer(), nullable=True),
    sa.Column('resp_3', sa.Integer(), nullable=True),
    sa.Column('resp_4', sa.Integer(), nullable=True),
    sa.Column('resp_5', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('product_line', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('day', 'channel', 'product_line', 'priority', name=op.f('pk_kpi_daily'))
    )
    with op.batch_alter_table('kpi_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_daily_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_daily_quarter'), ['quarter'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_daily_week'), ['week'], unique=False)

    op.create_table('kpi_daily_team',
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=True),
    sa.Column('open', sa.Integer(), nullable=True),
    sa.Column('closed', sa.Integer(), nullable=True),
    sa.Column('responded', sa.Integer(), nullable=True),
    sa.Column('response_met', sa.Integer(), nullable=True),
    sa.Column('response_failed', sa.Integer(), nullable=True),
    sa.Column('resolved', sa.Integer(), nullable=True),
    sa.Column('over_target', sa.Integer(), nullable=True),
    sa.Column('resolution_met', sa.Integer(), nullable=True),
    sa.Column('resolution_missed', sa.Integer(), nullable=True),
    sa.Column('resolved_ok', sa.Integer(), nullable=True),
    sa.Column('fcr', sa.Integer(), nullable=True),
    sa.Column('repeat', sa.Integer(), nullable=True),
    sa.Column('parts', sa.Integer(), nullable=True),
    sa.Column('backordered', sa.Integer(), nullable=True),
    sa.Column('qa_reviewed', sa.Integer(), nullable=True),
    sa.Column('breached', sa.Integer(), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=True),
    sa.Column('response_seconds', sa.Float(), nullable=True),
    sa.Column('resolution_seconds', sa.Float(), nullable=True),
    sa.Column('repeat_contacts', sa.Integer(), nullable=True),
    sa.Column('qa_total', sa.Float(), nullable=True),
    sa.Column('labour_cost', sa.Float(), nullable=True),
    sa.Column('parts_cost', sa.Float(), nullable=True),
    sa.Column('handling_cost', sa.Float(), nullable=True),
    sa.Column('csat_1', sa.Integer(), nullable=True),
    sa.Column('csat_2', sa.Integer(), nullable=True),
    sa.Column('csat_3', sa.Integer(), nullable=True),
    sa.Column('csat_4', sa.Integer(), nullable=True),
    sa.Column('csat_5', sa.Integer(), nullable=True),
    sa.Column('nps_0', sa.Integer(), nullable=True),
    sa.Column('nps_1', sa.Integer(), nullable=True),
    sa.Column('nps_2', sa.Integer(), nullable=True),
    sa.Column('nps_3', sa.Integer(), nullable=True),
    sa.Column('nps_4', sa.Integer(), nullable=True),
    sa.Column('nps_5', sa.Integer(), nullable=True),
    sa.Column('nps_6', sa.Integer(), nullable=True),
    sa.Column('nps_7', sa.Integer(), nullable=True),
    sa.Column('nps_8', sa.Integer(), nullable=True),
    sa.Column('nps_9', sa.Integer(), nullable=True),
    sa.Column('nps_10', sa.Integer(), nullable=True),
    sa.Column('res_0', sa.Integer(), nullable=True),
    sa.Column('res_1', sa.Integer(), nullable=True),
    sa.Column('res_2', sa.Integer(), nullable=True),
    sa.Column('res_3', sa.Integer(), nullable=True),
    sa.Column('res_4', sa.Integer(), nullable=True),
    sa.Column('res_5', sa.Integer(), nullable=True),
    sa.Column('res_6', sa.Integer(), nullable=True),
    sa.Column('resp_0', sa.Integer(), nullable=True),
    sa.Column('resp_1', sa.Integer(), nullable=True),
    sa.Column('resp_2', sa.Integer(), nullable=True),
    sa.Column('resp_3', sa.Integer(), nullable=True),
    sa.Column('resp_4', sa.Integer(), nullable=True),
    sa.Column('resp_5', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('product_line', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('team', 'day', 'channel', 'product_line', 'priority', name=op.f('pk_kpi_daily_team'))
    )
    with op.batch_alter_table('kpi_daily_team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_daily_team_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_daily_team_quarter'), ['quarter'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_daily_team_week'), ['week'], unique=False)

    op.create_table('kpi_rca',
    sa.Column('ticket_number', sa.String(length=32), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('resolution_seconds', sa.Double(), nullable=False),
    sa.Column('started_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ticket_number', name=op.f('pk_kpi_rca'))
    )
    op.create_table('kpi_source',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_kpi_source'))
    )
    op.create_table('kpi_state',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_kpi_state'))
    )
    op.create_table('kpi_task',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('ready_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('waiting_seconds', sa.Double(), nullable=True),
    sa.Column('working_seconds', sa.Double(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('product_line', sa.String(length=32), nullable=True),
    sa.Column('priority', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_kpi_task'))
    )
    with op.batch_alter_table('kpi_task', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_task_day', ['day'], unique=False)
        batch_op.create_index('ix_kpi_task_element_id', ['element_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_task_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_kpi_task_ticket_id_role', ['ticket_id', 'role'], unique=False)

    op.create_table('kpi_task_daily',
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('waiting_runs', sa.Integer(), nullable=False),
    sa.Column('waiting_seconds', sa.Double(), nullable=False),
    sa.Column('working_seconds', sa.Double(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('product_line', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('element_id', 'role', 'day', 'channel', 'product_line', 'priority', name=op.f('pk_kpi_task_daily'))
    )
    with op.batch_alter_table('kpi_task_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_task_daily_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_task_daily_quarter'), ['quarter'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_task_daily_week'), ['week'], unique=False)

    op.create_table('kpi_ticket',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('product_line', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('fault_category', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('stage', sa.String(length=200), nullable=True),
    sa.Column('first_response_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_response_seconds', sa.Double(), nullable=True),
    sa.Column('response_due_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_met', sa.Boolean(), nullable=True),
    sa.Column('resolved_at', engine.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_seconds', sa.Double(), nullable=True),
    sa.Column('paused_seconds', sa.Double(), nullable=False),
    sa.Column('resolution_met', sa.Boolean(), nullable=True),
    sa.Column('sla_breached', sa.Boolean(), nullable=False),
    sa.Column('fcr', sa.Boolean(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('contacts', sa.Integer(), nullable=False),
    sa.Column('csat', sa.Integer(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('qa_score', sa.Double(), nullable=True),
    sa.Column('parts_needed', sa.Boolean(), nullable=False),
    sa.Column('backordered', sa.Boolean(), nullable=False),
    sa.Column('labour_seconds', sa.Double(), nullable=False),
    sa.Column('labour_cost', sa.Double(), nullable=False),
    sa.Column('parts_cost', sa.Double(), nullable=False),
    sa.Column('handling_cost', sa.Double(), nullable=False),
    sa.Column('refreshed_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_kpi_ticket')),
    sa.UniqueConstraint('number', name=op.f('uq_kpi_ticket_number'))
    )
    with op.batch_alter_table('kpi_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_ticket_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_kpi_ticket_day', ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_ticket_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_kpi_ticket_refreshed_at', ['refreshed_at'], unique=False)
        batch_op.create_index('ix_kpi_ticket_status_priority', ['status', 'priority'], unique=False)

    op.create_index('ix_instance_updated_at', 'instance', ['updated_at'], unique=False)
    op.create_index('ix_ticket_contact_instance_id', 'ticket_contact', ['instance_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_contact_instance_id', table_name='ticket_contact')
    op.drop_index('ix_instance_updated_at', table_name='instance')
    with op.batch_alter_table('kpi_ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_ticket_status_priority')
        batch_op.drop_index('ix_kpi_ticket_refreshed_at')
        batch_op.drop_index(batch_op.f('ix_kpi_ticket_instance_id'))
        batch_op.drop_index('ix_kpi_ticket_day')
        batch_op.drop_index('ix_kpi_ticket_closed_at')

    op.drop_table('kpi_ticket')
    with op.batch_alter_table('kpi_task_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_task_daily_week'))
        batch_op.drop_index(batch_op.f('ix_kpi_task_daily_quarter'))
        batch_op.drop_index(batch_op.f('ix_kpi_task_daily_month'))

    op.drop_table('kpi_task_daily')
    with op.batch_alter_table('kpi_task', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_task_ticket_id_role')
        batch_op.drop_index(batch_op.f('ix_kpi_task_instance_id'))
        batch_op.drop_index('ix_kpi_task_element_id')
        batch_op.drop_index('ix_kpi_task_day')

    op.drop_table('kpi_task')
    op.drop_table('kpi_state')
    op.drop_table('kpi_source')
    op.drop_table('kpi_rca')
    with op.batch_alter_table('kpi_daily_team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_daily_team_week'))
        batch_op.drop_index(batch_op.f('ix_kpi_daily_team_quarter'))
        batch_op.drop_index(batch_op.f('ix_kpi_daily_team_month'))

    op.drop_table('kpi_daily_team')
    with op.batch_alter_table('kpi_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_daily_week'))
        batch_op.drop_index(batch_op.f('ix_kpi_daily_quarter'))
        batch_op.drop_index(batch_op.f('ix_kpi_daily_month'))

    op.drop_table('kpi_daily')
    with op.batch_alter_table('kpi_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_alert_rule'))

    op.drop_table('kpi_alert')
