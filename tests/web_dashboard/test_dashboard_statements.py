"""How many SQL statements the dashboard sends per request: reads merged stay merged.

The counts are behaviour (each statement is a round trip and a compiled query): the four
breakdowns read their roll-ups and their histograms once for all four, the filters' choices
and the alerts in one statement each. A change that reads a table once per table of the page
again breaks the bound. Counted on the second request, as a served page is (the alert rules
and the reader's texts are read once per process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from tests.web_dashboard.conftest import NOW

WEEKS = "start=2026-03-02&end=2026-03-15"
#: statements per request of the dashboard page over no dimension (48 when each table read its own roll-ups and
#: histograms, the choices four and the alerts two): the user (2), the reader's texts, the ticket times (1), the
#: roll-ups (3), the counts overdue now (12), the requests not registered yet, the alert rules (2), the product
#: lines, the alerts (1), handle times (2), the backlog (2), the choices (1), the last verification
PAGE_STATEMENTS = 36
#: over one dimension (a channel): the other breakdowns rest on pairs of dimensions, each read on its own
FILTERED_STATEMENTS = 44
#: the chart data: the four breakdowns' roll-ups in one read (26 before)
CHART_STATEMENTS = 23


@pytest.fixture
def counted(services: Any) -> Iterator[Callable[[Callable[[], Any]], int]]:
    """Return a function that runs a callable and returns how many SQL statements it sent."""
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    event.listen(services.db.engine, "before_cursor_execute", count)

    def run(call: Callable[[], Any]) -> int:
        sent[0] = 0
        call()
        return sent[0]

    yield run
    event.remove(services.db.engine, "before_cursor_execute", count)


@pytest.fixture
def supervisor(signed_in, figures, clock):
    """A supervisor's client, the clock at the facts' moment."""
    clock.set(NOW)
    return signed_in("supervisor")


def _get(client: Any, url: str) -> Callable[[], None]:
    def get() -> None:
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return get


@pytest.mark.parametrize("query", ["", WEEKS, f"{WEEKS}&period=day", f"{WEEKS}&period=month"])
def test_the_dashboard_reads_its_figures_in_a_bounded_number_of_statements(supervisor, counted, query: str) -> None:
    _get(supervisor, f"/dashboard/?{query}")()
    assert counted(_get(supervisor, f"/dashboard/?{query}")) <= PAGE_STATEMENTS


def test_a_dashboard_filtered_by_one_dimension_reads_a_bounded_number_of_statements(supervisor, counted) -> None:
    _get(supervisor, f"/dashboard/?{WEEKS}&channel=web")()
    assert counted(_get(supervisor, f"/dashboard/?{WEEKS}&channel=web")) <= FILTERED_STATEMENTS


def test_the_chart_data_reads_its_breakdowns_together(supervisor, counted) -> None:
    _get(supervisor, f"/dashboard/data.json?{WEEKS}")()
    assert counted(_get(supervisor, f"/dashboard/data.json?{WEEKS}")) <= CHART_STATEMENTS
