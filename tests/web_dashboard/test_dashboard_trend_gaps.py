"""The trend chart leaves a gap where a period not over yet has too few measurements, and the
priority filter lists priorities by urgency (紧急 / 高 / 中 / 低), not by their codes' letters."""

from __future__ import annotations

import re

import pytest

from analytics.dashboard import TREND_MIN_BASIS
from tests.web_dashboard.test_dashboard import WEEKS, supervisor  # noqa: F401  (the clock at the facts' moment)


def test_the_week_not_over_yet_with_one_survey_is_a_gap_in_the_chart_not_zero_or_a_hundred(supervisor) -> None:  # noqa: F811
    # Given the week of 2026-03-09, not over yet, whose one closed ticket was surveyed (satisfied, not at first contact)
    data = supervisor.get(f"/dashboard/data.json?{WEEKS}").get_json()
    done, running = data["trend"]
    assert running["partial"] and running["n"]["csat_satisfied_share"] == 1 < TREND_MIN_BASIS
    # Then its shares are null (a gap), not 100 % satisfied nor 0 % at first contact
    for share in ("csat_satisfied_share", "fcr_share", "response_sla_share", "over_target_share"):
        assert running[share] is None, share
    assert running["tickets"] == 1  # its volume is still drawn (the bar of the partial week)
    # And the week that is over keeps its figures measured on fewer tickets, with how many
    assert done["csat_satisfied_share"] == pytest.approx(0.5) and done["n"]["csat_satisfied_share"] == 2


def test_a_period_without_any_measurement_is_null_not_zero(supervisor) -> None:  # noqa: F811
    # Given only the open tickets' channel in the week not over yet (web: nothing answered, closed or surveyed)
    data = supervisor.get(f"/dashboard/data.json?{WEEKS}&channel=web").get_json()
    for row in data["trend"]:
        assert row["csat_satisfied_share"] is None and row["fcr_share"] is None and row["n"]["fcr_share"] == 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_priority_filter_lists_priorities_by_urgency(supervisor, lang: str) -> None:  # noqa: F811
    # Given tickets of high, medium and low priority (codes whose letters sort high, low, medium)
    supervisor.get(f"/lang/{lang}")
    page = supervisor.get(f"/dashboard/?{WEEKS}").get_data(as_text=True)
    select = re.search(r'<select name="priority">(.*?)</select>', page, re.S).group(1)
    # Then the filter offers them most urgent first, in either language
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "high", "medium", "low"]
    if lang == "zh":
        assert [n.strip() for n in re.findall(r"<option[^>]*>([^<]*)</option>", select)] == ["全部", "高", "中", "低"]


def test_the_backlog_and_the_per_priority_table_read_most_urgent_first(supervisor) -> None:  # noqa: F811
    page = supervisor.get(f"/dashboard/?{WEEKS}").get_data(as_text=True)
    backlog = page.split("Backlog now, by priority and stage", 1)[1].split("</table>", 1)[0]
    assert backlog.index("priority=medium") < backlog.index("priority=low")
    data = supervisor.get(f"/dashboard/data.json?{WEEKS}").get_json()
    assert [r["key"] for r in data["breakdowns"]["priority"]] == ["high", "medium", "low"]
