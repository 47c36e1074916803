"""Fixtures for the web tests: the app on the test database, clients signed in per role."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401  (registers the test.* handlers the fixtures use)
from engine.config import load_settings
from engine.db import Database
from engine.identity import Actor
from engine.models import WorkItem
from engine.runtime import Runtime
from readmodels.tasklist import forget_choices
from tests.support.states import starting_state
from web import create_app
from web.services import Services

PASSWORD = "correct-horse-1"
STAFF_ROLES = (
    "agent",
    "technician",
    "warehouse",
    "supervisor",
    "qa",
    "process_owner",
    "auditor",
    "admin",
)


@pytest.fixture
def services(database: Database, runtime: Runtime) -> Services:
    """The services of the app, on the test database."""
    return Services(load_settings(database_url=database.url), database, runtime)


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    """The app with CSRF protection on, as in production."""
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
            "SECRET_KEY": "test-secret",
            "INTAKE_PROCESS": "simple",
        },
        services=services,
    )
    yield app


@pytest.fixture(autouse=True)
def fresh_choices() -> Iterator[None]:
    """Forget the tasklist's cached filter choices."""
    forget_choices()
    yield


@pytest.fixture
def users(web_users_state: dict[str, str]) -> dict[str, str]:
    """One user per staff role, named after the role (a copy of the ``web_users_state``
    database, tests/conftest.py)."""
    return web_users_state


def csrf_of(html: str) -> str:
    """Return the CSRF token of the first form in ``html``."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browser:
    """A test client that keeps the last page's CSRF token and posts with it."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET a page and remember its CSRF token."""
        response = self.client.get(url, **kwargs)
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(
        self, url: str, data: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any
    ) -> Any:
        """POST a form, with the CSRF token unless told otherwise."""
        if csrf and not self.token:
            self.get("/service/")
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.token
        return self.client.post(url, data=body, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        """Sign in."""
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})


@pytest.fixture
def browser(app: Flask) -> Browser:
    """An anonymous client."""
    return Browser(app.test_client())


@pytest.fixture
def signed_in(app: Flask, users: dict[str, str]) -> Callable[[str], Browser]:
    """Return a client signed in as the user of a role."""

    def _as(role: str) -> Browser:
        b = Browser(app.test_client())
        response = b.login(role)
        assert response.status_code == 302, response.get_data(as_text=True)
        return b

    return _as


WEB_FIXTURES = Path(__file__).parent / "fixtures"
TICKET = "AS-20260302-00001"
CUSTOMER = {"name": "Li <b>Lei</b>", "phone": "+86 138 0013 8000", "email": "li.lei@example.com",
            "tier": "vip", "language": "zh"}
PRODUCT = {"model": "Aurora X1", "serial_number": "SN-0042", "purchase_date": "2025-06-01"}


@pytest.fixture
def repair_ticket(deploy_fixture: Callable[..., Any], services: Services) -> str:
    """A started repair (``tests/web/fixtures/customer``) waiting for the technician."""
    deploy_fixture(WEB_FIXTURES / "customer")
    data = {"ticket_number": TICKET, "channel": "hotline", "priority": "high", "customer_tier": "vip",
            "customer": CUSTOMER, "product": PRODUCT,
            "fault": {"description": "Screen <img src=x onerror=alert(1)> flickers", "symptoms": ["no_display"]}}
    with services.db.transaction() as s:
        services.runtime.start(s, "web_repair", data, TICKET, "agent")
    return TICKET


def open_tasks(services: Services, key: str | None = None) -> list[WorkItem]:
    """Return the open work items (of one ticket), oldest first."""
    with services.db.transaction(write=False) as s:
        query = select(WorkItem).order_by(WorkItem.created_at, WorkItem.task_id)
        if key:
            query = query.where(WorkItem.business_key == key)
        return list(s.scalars(query))


def manual_assignment_instructions(services: Services, desk: Any, signed_in: Callable[[str], Browser],
                                   language: str) -> str:
    """Put every east washer technician on leave so a repair's visit waits for the supervisor's
    manual assignment; return that task's instructions (HTML, entities unescaped) as a
    supervisor reading ``language`` sees them."""
    from handlers.dispatch import Technician

    with services.db.transaction() as s:
        for tech in s.scalars(select(Technician).where(Technician.region == "east")):
            tech.leave = [{"from": "2026-03-01", "to": "2026-03-04"}]
    case = desk.open_case().register().respond().assist()
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "assign_technician_manually"]
    supervisor = signed_in("supervisor")
    supervisor.get(f"/lang/{language}?next=/tasks")
    page = html.unescape(supervisor.get(f"/tasks/{task.task_id}").get_data(as_text=True))
    return page[page.index('class="instructions'):page.index('class="taskform')]


def complete(services: Services, task_id: str, username: str, roles: tuple[str, ...],
             data: dict[str, Any]) -> None:
    """Complete a task directly through the engine (to set up a later step)."""
    with services.db.transaction() as s:
        services.runtime.complete_task(s, task_id, Actor(username, frozenset(roles)), data)


@pytest.fixture
def desk(database: Database, runtime: Any, clock: Any, users: dict[str, str],
         web_desk_state: dict[str, Actor]) -> Iterator[Any]:
    """The real processes and catalogue, with staff to drive cases (the web users sign in too):
    a copy of the ``web_desk_state`` database (tests/conftest.py)."""
    from tests.process.driver import Desk

    yield Desk(database, runtime, clock, web_desk_state)


def _processes(database: Database) -> None:
    """The processes/ bundle deployed and the demo catalogue loaded (after the web users; no desk staff)."""
    from tests.process.driver import Desk

    Desk(database, runtime=None, clock=None, staff={}).deploy()  # type: ignore[arg-type]  (deploy needs neither)


web_processes_state = starting_state("web_processes_state", _processes, after=["web_users_state"])


@pytest.fixture
def role_desk(database: Database, runtime: Any, clock: Any, users: dict[str, str],
              web_processes_state: None) -> Any:
    """The real processes and catalogue driven by the web users themselves (each lane's actor is the
    user named after its role): a copy of the ``web_processes_state`` database."""
    from tests.process.driver import Desk

    return Desk(database, runtime, clock, {role: Actor(role, frozenset({role})) for role in
                                           ("agent", "technician", "warehouse", "supervisor", "qa")})
