"""A drill-down names every filter it applies, each in the reader's words."""

from __future__ import annotations

import html
import re

import pytest

from tests.web_dashboard.conftest import NOW

WEEKS = "start=2026-03-02&end=2026-03-15"


@pytest.mark.parametrize(("language", "stage", "priority"), [("zh", "阶段: ", "优先级: 中"),
                                                               ("en", "Stage: ", "Priority: medium")])
def test_a_drill_down_shows_a_chip_for_its_group_and_each_filter(signed_in, figures, clock, language, stage,
                                                                 priority) -> None:
    clock.set(NOW)
    supervisor = signed_in("supervisor")
    supervisor.get(f"/lang/{language}")
    # When the supervisor opens the tickets of one stage, filtered by priority
    page = html.unescape(supervisor.get(f"/dashboard/tickets?kpi=open&by=stage&group=Diagnose+the+fault"
                                        f"&priority=medium&scope=now&{WEEKS}").get_data(as_text=True))
    chips = dict(re.findall(r'<span class="tag" data-filter="(\w+)">([^<]*)</span>', page))
    # Then the stage chip is labelled in words and the priority filter has its own chip
    assert chips["stage"].startswith(stage) and "stage:" not in chips["stage"]
    assert chips["priority"] == priority
