"""The dashboard's requests not registered yet are found among the running instances of the intake process
by ix_instance_status_process (status, process_id, id), not by reading every running instance's row."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, text

from analytics.facts import kpi_settings
from analytics.unregistered import waiting_requests
from engine.models import Deployment, Instance

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _instances(database) -> None:
    """Running and ended instances of the intake process and of another, none registered."""
    with database.transaction() as s:
        s.add(Deployment(id=91, name="status", version=1, content_hash="8" * 64, deployed_at=WHEN,
                         deployed_by="owner", activated_at=WHEN, specs={}, warnings=[]))
        s.flush()
        for n in range(400):
            process, status = ("after_sales", "completed") if n % 4 else ("other", "active")
            if n % 50 == 0:
                process, status = "after_sales", ("active", "incident")[n % 100 == 0]
            s.add(Instance(deployment_id=91, process_id=process, status=status, started_at=WHEN, started_by="web",
                           updated_at=WHEN, summary={"channel": "web"}, projection={}, serializer_version="1"))


def test_requests_not_registered_are_found_by_the_status_and_process_index(database):
    _instances(database)
    sent: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if "FROM instance" in statement:
            sent.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", remember)
    try:
        with database.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("ANALYZE instance"))
            found = waiting_requests(s, kpi_settings(s))
    finally:
        event.remove(database.engine, "before_cursor_execute", remember)
    # the running instances of the intake process, and only those
    assert len(found) == 8 and {r["channel"] for r in found} == {"web"}
    [(statement, parameters)] = sent
    with database.engine.connect() as conn:
        if database.engine.dialect.name == "sqlite":
            plan = "\n".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "USING COVERING INDEX ix_instance_status_process" in plan or \
                "USING INDEX ix_instance_status_process" in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a table this small would be read whole
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert "ix_instance_status_process" in plan, plan
            assert "Filter: ((process_id)" not in plan, plan  # the process is in the index's condition
