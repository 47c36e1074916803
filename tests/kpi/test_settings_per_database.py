"""Two databases whose deployment 1 carries different KPI settings and alert rules (two
tenants, or a restored copy) each read their own, though both are read in one process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analytics.alerts import RULES_FILE, alert_rules
from analytics.facts import SETTINGS_FILE, kpi_settings
from engine.db import Database
from engine.models import Deployment, DeploymentFile

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _deployment_1(database: Database, hours: int, rule_id: str) -> None:
    """Give the database a deployment 1 with its own kpi.json and kpi_alerts.json."""
    files = {SETTINGS_FILE: {"targets": {"first_response_hours": hours}},
             RULES_FILE: {"alerts": [{"id": rule_id, "kpi": "nps", "period": "week", "below": 10,
                                      "min_count": 1, "title": {"en": rule_id, "zh": rule_id}}]}}
    with database.transaction() as s:
        s.add(Deployment(id=1, name="tenant", version=1, content_hash="0" * 64, deployed_at=WHEN,
                         deployed_by="owner", activated_at=WHEN, specs={}, warnings=[]))
        s.flush()
        for path, data in files.items():
            s.add(DeploymentFile(deployment_id=1, path=path, kind="data", sha256="0" * 64,
                                 content=json.dumps(data).encode()))


@pytest.fixture
def two_databases(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two migrated SQLite files, each with a deployment 1 of its own settings."""
    databases = []
    for name, hours, rule_id in (("north", 4, "north_rule"), ("south", 72, "south_rule")):
        path = tmp_path / f"{name}.sqlite3"
        shutil.copyfile(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
        _deployment_1(database, hours, rule_id)
        databases.append(database)
    yield databases[0], databases[1]
    for database in databases:
        database.dispose()


def test_each_database_reads_the_kpi_targets_of_its_own_deployment_1(two_databases):
    north, south = two_databases
    with north.transaction(write=False) as s:
        assert kpi_settings(s)["targets"]["first_response_hours"] == 4
    with south.transaction(write=False) as s:
        assert kpi_settings(s)["targets"]["first_response_hours"] == 72
    with north.transaction(write=False) as s:
        assert kpi_settings(s)["targets"]["first_response_hours"] == 4


def test_each_database_reads_the_alert_rules_of_its_own_deployment_1(two_databases):
    north, south = two_databases
    with north.transaction(write=False) as s:
        assert [r["id"] for r in alert_rules(s)] == ["north_rule"]
    with south.transaction(write=False) as s:
        assert [r["id"] for r in alert_rules(s)] == ["south_rule"]
