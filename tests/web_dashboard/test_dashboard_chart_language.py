"""The dashboard's charts name task types in the reader's language, as its tables do."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from analytics.facts import KpiTask, kpi_settings
from analytics.rollup import roll_up
from tests.conftest import PROCESSES
from tests.kpi.test_kpi_figures import MONDAY, task
from tests.web_dashboard.conftest import NOW

WEEKS = "start=2026-03-02&end=2026-03-15"
BUNDLE_ZH = json.loads((PROCESSES / "translations.zh.json").read_text(encoding="utf-8"))


def test_the_handle_time_chart_names_task_types_in_chinese_on_a_chinese_page(signed_in, figures, clock,
                                                                            deploy_fixture):
    deploy_fixture(PROCESSES)
    inspect = task(99, 1, "inspect_repair", "technician", 600.0, 900.0, MONDAY + timedelta(hours=3))
    with figures.transaction() as s:
        s.execute(KpiTask.__table__.insert(), [{**inspect, "name": "Inspect the repair"}])
        roll_up(s, kpi_settings(s), None)
    clock.set(NOW)
    supervisor = signed_in("supervisor")
    english = {row["name"] for row in supervisor.get(f"/dashboard/data.json?{WEEKS}").get_json()["handle_times"]}
    assert "Inspect the repair" in english
    supervisor.get("/lang/zh")
    chinese = {row["name"] for row in supervisor.get(f"/dashboard/data.json?{WEEKS}").get_json()["handle_times"]}
    assert BUNDLE_ZH["Inspect the repair"] in chinese and "Inspect the repair" not in chinese


def test_the_cost_chart_names_each_channel_in_the_reader_s_language(signed_in, figures, clock) -> None:
    clock.set(NOW)
    supervisor = signed_in("supervisor")
    english = {row["key"]: row["name"] for row in
               supervisor.get(f"/dashboard/data.json?{WEEKS}").get_json()["breakdowns"]["channel"]}
    supervisor.get("/lang/zh")
    chinese = {row["key"]: row["name"] for row in
               supervisor.get(f"/dashboard/data.json?{WEEKS}").get_json()["breakdowns"]["channel"]}
    assert set(english) == set(chinese) == {"email", "hotline", "web"}
    assert chinese["web"] == "网站" and english["web"] != chinese["web"]
    assert all(re.search(r"[\u4e00-\u9fff]", name) for name in chinese.values()), chinese
