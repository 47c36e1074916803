"""The owner's instance list filtered by priority reads ix_instance_priority instead of taking
every instance's summary apart: the query writes the JSON path into its SQL, as the index does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.schema import CreateIndex

from engine.cockpit import InstanceFilter, _filtered, find_instances
from engine.models import Deployment, Instance

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _instances(database, priorities: list[str | None]) -> None:
    with database.transaction() as s:
        s.add(Deployment(id=90, name="prio", version=1, content_hash="9" * 64, deployed_at=WHEN,
                         deployed_by="owner", activated_at=WHEN, specs={}, warnings=[]))
        s.flush()
        for n, priority in enumerate(priorities):
            s.add(Instance(business_key=f"P-{n}", deployment_id=90, process_id="p", status="active",
                           started_at=WHEN, started_by="ann", updated_at=WHEN,
                           summary={"priority": priority} if priority else {}, projection={},
                           serializer_version="1"))


def _plan(session, statement) -> str:
    """Return the database's plan for ``statement`` as the application sends it (bound values bound)."""
    compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    if session.get_bind().dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        return "\n".join(row[-1] for row in rows)
    return "\n".join(row[0] for row in session.connection().exec_driver_sql(f"EXPLAIN {compiled}",
                                                                              compiled.params))


def test_the_instance_list_filtered_by_priority_searches_the_priority_index(database):
    _instances(database, ["high", None, "high", "urgent"] + ["low"] * 300)
    with database.transaction() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ANALYZE instance"))  # statistics of the index's expression, as autovacuum keeps them
        plan = _plan(s, _filtered(InstanceFilter(priority="high"), WHEN))
        found, total = find_instances(s, InstanceFilter(priority="high"), WHEN)
    assert "ix_instance_priority" in plan
    if database.engine.dialect.name == "sqlite":
        assert "SEARCH instance USING INDEX ix_instance_priority" in plan
    assert total == 2 and [row["priority"] for row in found] == ["high", "high"]


def test_the_migrated_priority_index_is_the_one_the_models_describe(database):
    """Alembic cannot reflect expression indexes on SQLite (tests/test_migrations.py skips it there)."""
    [index] = [i for i in Instance.__table__.indexes if i.name == "ix_instance_priority"]
    if database.engine.dialect.name == "sqlite":
        with database.engine.connect() as conn:
            migrated = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_instance_priority'"))
        assert migrated == str(CreateIndex(index).compile(dialect=database.engine.dialect)).strip()
    else:
        with database.engine.connect() as conn:
            migrated = conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_instance_priority'"))
        assert "(summary ->> 'priority'::text)" in migrated
