"""The personal-data matrix: every page, document, export and API answer that can show a customer,
walked by every staff role, shows each kind of contact data in clear only where ``ROLE_SEES`` allows it.

One ticket of the real process with a distinctive customer is seeded; each role's walk collects
every violation, so a failure lists all the places at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from engine.identity import SUPERVISING
from engine.models import AuditEvent, WorkItem
from engine.privacy import CATEGORIES, ROLE_SEES, visible_categories
from handlers.quote import Quote
from tests.process.driver import Desk
from tests.web.conftest import STAFF_ROLES

CUSTOMER = {"name": "Wren Okonkwo-Tan", "phone": "+86 139 2468 1357", "email": "wren.okonkwo@example.org",
            "tier": "vip", "language": "en", "preferred_channel": "email", "region": "east"}
#: how each kind appears in clear (any spelling) and masked
CLEAR = {"name": ("Okonkwo",), "phone": ("139 2468", "13924681357"), "email": ("wren.okonkwo@", "wren.okonkwo%40")}
MASKED = {"name": "W***", "phone": "***1357", "email": "w***@example.org"}
#: the kinds the real process records (it keeps a service region, not a customer's address)
KINDS = sorted(CLEAR)
AUDIT_READERS = frozenset({"auditor", "supervisor", "process_owner", "admin"})
KPI_READERS = frozenset({"supervisor", "process_owner", "admin"})


@dataclass(frozen=True)
class Place:
    """A page or endpoint: who may open it, which kinds it shows, and whose rule masks them."""

    name: str
    url: Callable[[dict[str, Any]], str]
    readers: frozenset[str]
    shows: frozenset[str]
    #: "role": as ROLE_SEES says; "trail": masked for every role (unmasking the trail is a separate, audited act)
    rule: str = "role"
    api: bool = False


ALL = frozenset(STAFF_ROLES)
PLACES = [
    Place("ticket page", lambda s: f"/tickets/{s['ticket']}", ALL, CATEGORIES),
    Place("search by serial", lambda s: "/tickets?q=WMF80-0001", ALL, frozenset({"name"})),
    Place("quote document", lambda s: f"/tickets/{s['ticket']}/quote/{s['quote']}", ALL, frozenset({"name"})),
    Place("task page", lambda s: f"/tasks/{s['task']}", frozenset(), CATEGORIES),  # readers: the lane + supervisors
    Place("audit trace", lambda s: f"/audit/instances/{s['instance']}/trace.json", AUDIT_READERS, frozenset(),
          "trail"),
    Place("audit data at a step", lambda s: f"/audit/instances/{s['instance']}/data.json?seq={s['registered']}",
          AUDIT_READERS, CATEGORIES, "trail"),
    Place("audit element detail", lambda s: f"/audit/instances/{s['instance']}/elements/register_request.json",
          AUDIT_READERS, CATEGORIES, "trail"),
    Place("audit trail export", lambda s: f"/audit/instances/{s['instance']}/trail.json", AUDIT_READERS,
          CATEGORIES, "trail"),
    Place("audit instance list CSV", lambda s: "/audit/instances.csv", AUDIT_READERS, frozenset(), "trail"),
    Place("KPI drill-down", lambda s: "/dashboard/tickets", KPI_READERS, frozenset(), "trail"),
    Place("API instance", lambda s: f"/api/v1/instances/{s['instance']}", ALL, frozenset(), api=True),
    Place("API events", lambda s: f"/api/v1/instances/{s['instance']}/events", ALL, CATEGORIES, "trail", api=True),
    Place("API service request", lambda s: f"/api/v1/service-requests/{s['ticket']}", ALL, frozenset(), api=True),
    Place("API tasks", lambda s: "/api/v1/tasks?scope=all", ALL, frozenset(), api=True),
    Place("API task form", lambda s: f"/api/v1/tasks/{s['task']}/form", frozenset(), CATEGORIES, api=True),
]


@pytest.fixture
def seeded(database, runtime, clock, desk_state, services) -> dict[str, Any]:
    """Wren's washer on the real process: registered, diagnosed, quoted and accepted, waiting for the repair
    (the processes, catalogue and staff are a copy of the ``desk_state`` database, tests/conftest.py)."""
    desk = Desk(database, runtime, clock, desk_state)
    case = desk.open_case()
    case.register(customer=CUSTOMER)
    case.diagnose().propose()
    case.answer_quote(True)
    with database.transaction(write=False) as s:
        quote = s.scalars(select(Quote.id).where(Quote.ticket_number == case.ticket_number)).first()
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == case.instance_id)).first()
        registered = s.scalars(select(AuditEvent.seq).where(AuditEvent.instance_id == case.instance_id,
                                                            AuditEvent.element_id == "register_request",
                                                            AuditEvent.kind == "task.completed")).first()
    assert quote and item and registered, "the seeded ticket has a quote, a ready task and its registration"
    return {"ticket": case.ticket_number, "instance": case.instance_id, "quote": quote, "task": item.task_id,
            "lane": item.role, "registered": registered}


def expected(place: Place, role: str) -> frozenset[str]:
    """Return the kinds ``role`` sees in clear at ``place``."""
    return visible_categories({role}) if place.rule == "role" else frozenset()


def readers(place: Place, seeded: dict[str, Any]) -> frozenset[str]:
    """Return the roles that may open ``place``."""
    return place.readers or frozenset({seeded["lane"], *SUPERVISING})


def violations(body: str, place: Place, role: str) -> list[str]:
    """Return what ``body`` shows against the rule: clear data the role may not see, or data missing."""
    clear_ok = expected(place, role)
    found = []
    for kind in KINDS:
        clear = any(spelling in body for spelling in CLEAR[kind])
        if clear and kind not in clear_ok:
            found.append(f"{place.name}: {kind} in clear")
        if kind in place.shows and kind in clear_ok and not clear:
            found.append(f"{place.name}: {kind} missing although the role sees it")
        if kind in place.shows and kind not in clear_ok and MASKED[kind] not in body:
            found.append(f"{place.name}: {kind} not shown masked ({MASKED[kind]})")
    return found


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_place_shows_each_kind_of_contact_data_as_the_role_may_see_it(seeded, signed_in, api_key, app, role):
    # Given Wren's ticket and a member of ``role``, on the web and through an API key acting as that role
    browser = signed_in(role)
    key = api_key("instances:read", "service-requests:read", "tasks:read", roles=(role,))
    api = app.test_client()
    problems, walked = [], 0
    # When the role opens every place that can show a customer
    for place in PLACES:
        if role not in readers(place, seeded):
            continue
        url = place.url(seeded)
        response = api.get(url, headers=key) if place.api else browser.get(url)
        assert response.status_code == 200, (place.name, role, response.status_code)
        walked += 1
        # Then each kind of contact data is in clear only where the role's row of ROLE_SEES allows
        problems += violations(response.get_data(as_text=True), place, role)
    assert walked >= 5
    assert problems == [], "\n".join(problems)


def test_the_policy_table_covers_every_staff_role_and_only_known_kinds():
    assert set(ROLE_SEES) == set(STAFF_ROLES)
    assert all(kinds <= CATEGORIES for kinds in ROLE_SEES.values())
    assert visible_categories({"qa", "warehouse"}) == ROLE_SEES["warehouse"]
    assert visible_categories({"somebody"}) == frozenset()


def test_a_form_submitted_with_its_masked_values_unchanged_keeps_the_clear_ones():
    from engine.privacy import keep_hidden_values, mask_for

    clear = {"customer": dict(CUSTOMER), "notes": "old"}
    shown = mask_for(clear, ROLE_SEES["admin"])
    submitted = {"customer": {**shown["customer"], "tier": "normal"}, "notes": "new"}
    kept = keep_hidden_values(submitted, shown, clear)
    assert kept == {"customer": {**CUSTOMER, "tier": "normal"}, "notes": "new"}
    typed = {"customer": {**shown["customer"], "phone": "+86 139 0000 1111"}}
    assert keep_hidden_values(typed, shown, clear)["customer"]["phone"] == "+86 139 0000 1111"


def test_free_text_masks_every_hidden_value_in_its_plain_and_html_spellings():
    from engine.privacy import mask_text, personal_values

    hidden = personal_values({"customer": {"name": "Li <b>Lei</b>", "email": "li.lei@example.com"}}, frozenset())
    html = "<p>Dear Li &lt;b&gt;Lei&lt;/b&gt;, we wrote to li.lei@example.com</p>"
    assert mask_text(html, hidden) == "<p>Dear L***, we wrote to l***@example.com</p>"
