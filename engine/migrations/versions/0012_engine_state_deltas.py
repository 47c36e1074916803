"""Engine state written as deltas (per-task rows / append-only log)

An instance's workflow moves from ``instance.state`` (rewritten whole by every trigger) to
``instance_state`` rows: a full document, then deltas (``engine.state_log``). Existing
states become row 1, a full document; ``instance.state_seq`` names each instance's last row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 00:15:00.000000
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'instance_state',
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_instance_state_instance_id_instance'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('instance_id', 'seq', name=op.f('pk_instance_state')),
    )
    # Plain ALTER TABLE (SQLite >= 3.35 drops columns in place): a batch copy of ``instance``
    # would drop the old table, and with it, by ON DELETE CASCADE, every row that refers to it.
    op.add_column('instance', sa.Column('state_seq', sa.Integer(), server_default='0', nullable=False))
    op.execute("INSERT INTO instance_state (instance_id, seq, kind, body) "
               "SELECT id, 1, 'full', state FROM instance WHERE state <> ''")
    op.execute("UPDATE instance SET state_seq = 1 WHERE state <> ''")
    op.drop_column('instance', 'state')


def downgrade() -> None:
    from engine.state_log import document_of

    op.add_column('instance', sa.Column('state', sa.Text(), server_default='', nullable=False))
    conn = op.get_bind()
    rows: dict[int, list[tuple[int, str, str]]] = {}
    for instance_id, seq, kind, body in conn.execute(sa.text(
            "SELECT instance_id, seq, kind, body FROM instance_state ORDER BY instance_id, seq")):
        rows.setdefault(instance_id, []).append((seq, kind, body))
    for instance_id, log in rows.items():
        conn.execute(sa.text("UPDATE instance SET state = :state WHERE id = :id"),
                     {"state": json.dumps(document_of(log)), "id": instance_id})
    op.drop_column('instance', 'state_seq')
    op.drop_table('instance_state')
