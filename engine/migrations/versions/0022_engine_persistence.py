"""Element roll-ups marked for a rebuild (interrupted runs); an index on instances' priority

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 06:40:00.000000
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import engine.db

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

#: the ``database_mark`` row that asks for :func:`engine.rollup_elements.rebuild` (see rebuild_if_stale)
STALE = 'element_rollups'
_mark = sa.table('database_mark', sa.column('name', sa.String()), sa.column('value', sa.String()),
                 sa.column('set_at', engine.db.UTCDateTime(timezone=True)), sa.column('set_by', sa.String()))
#: what engine.cockpit's priority filter emits, with the JSON path as a literal (an expression index
#: is only used for the very same expression): SQLite CAST(JSON_EXTRACT(summary, '$."priority"') AS
#: VARCHAR), PostgreSQL CAST(summary ->> 'priority' AS VARCHAR)
_priority = sa.column('summary', sa.JSON())['priority'].as_string()


def upgrade() -> None:
    # Runs cut off by an interrupting boundary event were kept as 'active' before f7d14b6; refolding them
    # needs the process diagrams (Python, not SQL), and a migration must not run today's ORM code against
    # the schema of its own revision, so it only marks the roll-ups stale: `aftersales db upgrade` (and
    # `aftersales rollups rebuild`) rebuild them at head. An empty database needs nothing.
    if op.get_bind().scalar(sa.text('SELECT 1 FROM element_run LIMIT 1')):
        op.bulk_insert(_mark, [{'name': STALE, 'value': 'stale', 'set_at': datetime.now(UTC),
                                'set_by': 'migration 0022'}])
    op.create_index('ix_instance_priority', 'instance', [_priority], unique=False)


def downgrade() -> None:
    op.drop_index('ix_instance_priority', table_name='instance')
    op.execute(sa.delete(_mark).where(_mark.c.name == STALE))
