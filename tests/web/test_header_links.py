"""Every link of the header leads to a page the signed-in person may open.

The header asks the rule each page's view checks (``web.access.may_open``), so a role a process
lane created (``field_partner``, not one of the staff roles) is offered its tasks but neither the
ticket pages nor the ticket search, which answer 403 to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import STAFF_ROLES, Browser

FIELD_PARTNER = Path(__file__).parent / "fixtures" / "field_partner"
HEADER = re.compile(r'<header class="top[^"]*">(.*?)</header>', re.S)
NAV = re.compile(r'<nav class="main">(.*?)</nav>', re.S)
HREF = re.compile(r'<a href="([^"]+)"')
SEARCH = re.compile(r'<form class="quicksearch" method="get" action="([^"]+)"')


@pytest.fixture
def people(deploy_fixture: Callable[..., Any], make_user: Callable[..., Any], users: dict[str, str]) -> list[str]:
    """One user per staff role, one whose only role a lane created, and one with two roles."""
    deploy_fixture("simple")
    deploy_fixture(FIELD_PARTNER)
    make_user("partner", "field_partner")
    make_user("desk_and_stock", "agent", "warehouse")
    return [*STAFF_ROLES, "partner", "desk_and_stock"]


def header_of(browser: Browser) -> tuple[list[str], list[str]]:
    """Return the header's links (its row of areas, the rest) and the search form's address, from /tasks."""
    page = browser.get("/tasks")
    assert page.status_code == 200
    header = HEADER.search(page.get_data(as_text=True))
    assert header, "the page has no header"
    nav = NAV.search(header.group(1))
    areas = [unescape(h) for h in HREF.findall(nav.group(1))] if nav else []
    return areas, [unescape(a) for a in SEARCH.findall(header.group(1))]


def test_every_link_in_each_roles_header_opens(app, people, signed_in) -> None:
    """Given each role signed in, when it follows every link of its header's row and its search,
    then each answers 200 (no 403, no 404)."""
    refused = {}
    for user in people:
        browser = signed_in(user)
        areas, searches = header_of(browser)
        assert areas, f"{user} is offered no page at all"
        for href in [*areas, *searches]:
            status = browser.get(href).status_code
            if status != 200:
                refused[(user, href)] = status
    assert refused == {}


def test_a_lane_only_role_is_offered_its_tasks_but_not_the_ticket_pages(app, people, signed_in) -> None:
    """Given a user whose only role is the lane-created field_partner, the header offers Tasks but no
    Tickets link and no ticket search, which its role may not open."""
    areas, searches = header_of(signed_in("partner"))
    assert areas == ["/tasks"]
    assert searches == []
    assert signed_in("partner").get("/tickets").status_code == 403  # the rule the header follows


@pytest.mark.parametrize(("user", "offered", "not_offered"), [
    ("agent", {"/tickets", "/requests/new", "/mail/"}, {"/warehouse/", "/admin/users"}),
    ("warehouse", {"/tickets", "/warehouse/"}, {"/requests/new", "/mail/"}),
    ("desk_and_stock", {"/tickets", "/requests/new", "/mail/", "/warehouse/"}, {"/admin/users"}),
])
def test_the_header_offers_what_each_role_opens_and_nothing_else(app, people, signed_in, user, offered,
                                                               not_offered) -> None:
    """Given a role, its header names the pages its roles open, a user with two roles those of both."""
    areas, _ = header_of(signed_in(user))
    paths = {a.partition("?")[0] for a in areas}
    assert offered <= paths
    assert not paths & not_offered
