"""The trend chart in a real browser (zh and en): the week not over yet, with one survey, is a gap in
the shares' lines (not a crash to 0 % or a jump to 100 %) and still named partial on the axis; the
priority filter lists the most urgent first. Screenshots: ``test-artifacts/screenshots/dashboard-trend-*.png``.
"""

from __future__ import annotations

import pytest

from tests.web.live import SCREENSHOTS, chromium, serving, sign_in
from tests.web_dashboard.conftest import NOW

pytestmark = pytest.mark.browser
WEEKS = "start=2026-03-02&end=2026-03-15"
SERIES = "() => Chart.getChart('chart-trend').data.datasets.map(d => d.data)"


@pytest.mark.parametrize(("lang", "partial"), [("en", "partial"), ("zh", "未结束")])
def test_trend_chart_leaves_a_gap_for_the_week_not_over_yet(app, users, figures, clock, lang, partial) -> None:
    clock.set(NOW)
    with serving(app) as base, chromium(locale="zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "supervisor")
        page.goto(f"{base}/lang/{lang}")
        page.goto(f"{base}/dashboard/?{WEEKS}")
        page.wait_for_selector("#kpi-charts[data-drawn=yes]")
        # Then each share's line has the finished week's point and a gap (null) for the running one
        series = page.evaluate(SERIES)
        assert len(series) == 4 and all(len(points) == 2 and points[1] is None for points in series), series
        assert series[3][0] == 50  # CSAT satisfied in the finished week: 1 of 2
        labels = page.evaluate("() => Chart.getChart('chart-trend').data.labels")
        assert labels[1].startswith("2026-03-09") and partial in labels[1]
        # and the priority filter starts with the most urgent
        assert page.eval_on_selector_all("select[name=priority] option", "os => os.map(o => o.value)") == \
            ["", "high", "medium", "low"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#chart-trend").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-trend-{lang}.png"),
                        clip=page.locator("#chart-trend").bounding_box())
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-trend-{lang}-filters.png"),
                        clip=page.locator("form.kpi-filters").bounding_box())
