"""Fixtures of the API tests: the app and the instances of the auditor tests."""

from __future__ import annotations

from tests.web_audit import conftest as audit

app, browser, services, signed_in, users = audit.app, audit.browser, audit.services, audit.signed_in, audit.users
sally, order_instance, incident_instances = audit.sally, audit.order_instance, audit.incident_instances

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from engine.apikeys import SCOPES, create_key  # noqa: E402
from engine.registry import load_handlers  # noqa: E402

INTAKE = Path(__file__).parent / "fixtures" / "intake"
REQUEST = {"channel": "web", "customer": {"name": "Ada Lovelace", "phone": "+44 20 7946 0018",
                                          "email": "ada@example.com"},
           "product": {"model": "Aurora X1", "serial_number": "SN-0042", "purchase_date": "2025-06-01"},
           "fault": {"description": "The screen flickers", "symptoms": ["no_display"]},
           "expectation": "repair"}


@pytest.fixture
def intake(app: Any, deploy_fixture: Callable[..., Any]) -> str:
    """Deploy the test intake process (real ticketing handlers) and make it the API's intake."""
    load_handlers()
    deploy_fixture(INTAKE)
    app.config["INTAKE_PROCESS"] = "api_intake"
    return "api_intake"


@pytest.fixture
def api_key(services: Any) -> Callable[..., dict[str, str]]:
    """Return the Authorization header of a new key with the given scopes and roles."""
    counter = iter(range(1000))

    def _make(*scopes: str, roles: tuple[str, ...] = ()) -> dict[str, str]:
        with services.db.transaction() as s:
            _, token = create_key(s, f"integration-{next(counter)}", list(scopes or SCOPES), list(roles), by="admin")
        return {"Authorization": f"Bearer {token}"}

    return _make
