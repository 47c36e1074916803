"""The tasklist's Age column: its arrow and its order agree (▼ longest wait first, ▲ shortest first)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest


@pytest.mark.parametrize(("direction", "arrow", "first"), [("asc", "▼", "AS-20260302-00001"),
                                                           ("desc", "▲", "AS-20260302-00002")])
def test_sorting_by_age_shows_the_arrow_of_the_order_of_waits(signed_in, services, deploy_fixture, clock,
                                                              direction, arrow, first):
    """Given a task waiting three hours and one waiting one hour, when the supervisor sorts by Age, then the
    longest wait comes first under ▼ and the shortest first under ▲."""
    from tests.web.conftest import WEB_FIXTURES

    deploy_fixture(WEB_FIXTURES / "customer")
    for n in (1, 2):
        with services.db.transaction() as s:
            services.runtime.start(s, "web_repair", {"priority": "high", "channel": "web", "customer_tier": "normal"},
                                   f"AS-20260302-0000{n}", "agent")
        clock.advance(timedelta(hours=2))
    page = signed_in("supervisor").get(f"/tasks?tab=all&sort=created_at&dir={direction}").get_data(as_text=True)
    header = re.search(r'class="col-created_at"><a [^>]*>([^<]*)</a>', page)
    assert header is not None and header.group(1).endswith(arrow)
    tickets = re.findall(r"AS-20260302-0000\d", page.split("<tbody>", 1)[1])
    assert tickets[0] == first
