"""The tasklist's filters say "all" and "breached" in the UI's words, not the KPI catalogue's.

The catalogue's drill-downs are keyed ``all``, ``open``, ``breached`` …, and their names
(全部工单, SLA 违约) reach pages through the catalogue's texts; the tasklist's own filter
options have texts of their own, so a Chinese reader sees 任务：全部, not 任务: 全部工单.
"""

from __future__ import annotations

import html
import re

import pytest


def options(page: str) -> list[str]:
    """Return the texts of the page's filter options."""
    return [html.unescape(text).strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", page)]


@pytest.mark.parametrize(("language", "all_tasks", "all_slas", "breached"), [
    ("zh", "任务：全部", "SLA：全部", "已超时"),
    ("en", "Task: all", "SLA: all", "breached"),
])
def test_the_tasklist_filters_say_all_in_the_readers_words(signed_in, language, all_tasks, all_slas, breached):
    # Given a supervisor reading in the chosen language
    supervisor = signed_in("supervisor")
    supervisor.get(f"/lang/{language}?next=/tasks")
    # When they open the tasklist
    shown = options(supervisor.get("/tasks").get_data(as_text=True))
    # Then each filter's empty choice says "all" the tasklist's way, and breached is the SLA state
    assert all_tasks in shown and all_slas in shown and breached in shown
    assert not [text for text in shown if "全部工单" in text or "SLA 违约" in text]


def test_the_kpi_catalogue_still_names_its_all_tickets_drill():
    # The dashboard's drill-down keeps the catalogue's own name for "all"
    from analytics.catalogue import drill_names

    assert drill_names("zh")["all"] == "全部工单"
