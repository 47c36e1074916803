"""The access matrix: every route × method × role (and anonymous), every API route × scope,
answered as ``tests/security/access_table.py`` declares.

Allowed means the answer is not 401, 403 or a redirect to the sign-in page (a dummy id may
well be 404 or a form 422); refused means exactly one of those. Access decisions do not
depend on the database, so the matrix runs on one SQLite app.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from engine.apikeys import SCOPES, create_key
from engine.config import load_settings
from engine.db import Database
from engine.identity import create_user
from tests.security.access_table import ROLES, TABLE
from web import create_app
from web.services import Services

PASSWORD = "correct-horse-1"
#: a value for each path parameter that names nothing (the answer may be 404, never 401/403)
DUMMY = {"task_id": "00000000-0000-4000-8000-000000000000", "key": "AS-20260302-99999",
         "ticket": "AS-20260302-99999", "token": "no-such-token", "code": "en", "fmt": "json", "table": "tickets",
         "name": "nobody", "process_id": "no_such_process", "element_id": "Task_none", "lang": "zh",
         "job_id": "no-such-job", "filename": "app.js", "path": "no/such.bpmn", "action": "stop", "side": "tried"}
LARGE = (10_000, 60)


def key_of(rule: Rule, method: str) -> str:
    return f"{method} {rule.rule}"


def routes(app: Flask) -> dict[str, Rule]:
    """Return every ``METHOD /rule`` of the app (HEAD and OPTIONS are Flask's own)."""
    return {key_of(rule, m): rule for rule in app.url_map.iter_rules() for m in rule.methods - {"HEAD", "OPTIONS"}}


def url_of(rule: Rule) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in DUMMY and rule._converters[name].regex == r"\d+":  # noqa: SLF001
            return "1"
        return "1" if name.endswith("_id") and name not in DUMMY else DUMMY.get(name, "x")

    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", value, rule.rule).replace("/<int:", "/")


@pytest.fixture
def matrix_app(sqlite_template, tmp_path, runtime) -> Iterator[Flask]:
    """One app on a SQLite copy: a user per staff role, limits out of the way, errors as pages."""
    path = tmp_path / "matrix.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False, "WTF_CSRF_ENABLED": True,
                      "SECRET_KEY": "matrix", "INTAKE_PROCESS": "simple", "RATELIMIT_LOGIN": LARGE,
                      "RATELIMIT_STATUS": LARGE, "RATELIMIT_REQUEST": LARGE},
                     services=Services(load_settings(database_url=db.url), db, runtime))
    with db.transaction() as s:
        for role in ROLES:
            create_user(s, role, PASSWORD, [role])
    yield app
    db.dispose()


class Caller:
    """A client signed in as one role (or anonymous) that sends each kind of request with its CSRF token."""

    def __init__(self, app: Flask, role: str) -> None:
        self.app, self.role = app, role
        self.client, self.token = self._fresh()

    def _fresh(self) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        if self.role != "anonymous":
            response = client.post("/login", data={"username": self.role, "password": PASSWORD,
                                                   "csrf_token": _token(client)})
            assert response.status_code == 302, self.role
        return client, _token(client)

    def call(self, method: str, url: str, headers: dict[str, str] | None = None) -> Any:
        """Send a request as a browser (form posts) or a script (JSON) would, with the CSRF token."""
        client, token = self.client, self.token
        if url in ("/login", "/logout") and method == "POST":
            client, token = self._fresh()  # signing in or out must not change the caller of the next rows
        kwargs: dict[str, Any] = {"headers": {"X-CSRFToken": token, **(headers or {})}}
        if method != "GET":
            if "/api/" in url:
                kwargs["json"] = {}
            else:
                kwargs["data"] = {"csrf_token": token}
                if url == "/login":
                    kwargs["data"].update(username="agent", password=PASSWORD)
        response = client.open(url, method=method, **kwargs)
        response.close()
        return response


def _token(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def refused(response: Any) -> bool:
    return response.status_code in (401, 403) or (
        response.status_code in (301, 302, 303) and response.headers["Location"].startswith("/login?next="))


def test_every_route_has_a_row_and_every_row_a_route(matrix_app):
    found = routes(matrix_app)
    assert sorted(set(found) - set(TABLE)) == [], "add these routes to tests/security/access_table.py"
    assert sorted(set(TABLE) - set(found)) == [], "these rows of access_table.py name no route"


def test_every_route_answers_each_role_as_the_table_says(matrix_app):
    wrong = []
    for role in (*ROLES, "anonymous"):
        caller = Caller(matrix_app, role)
        for key, rule in sorted(routes(matrix_app).items()):
            if key not in TABLE:
                continue
            method = key.split()[0]
            response = caller.call(method, url_of(rule))
            expected = TABLE[key].allows(role)
            if expected == refused(response):
                wrong.append(f"{key} as {role}: {response.status_code} "
                             f"{response.headers.get('Location', '')} (expected "
                             f"{'allowed' if expected else 'refused'})")
    assert wrong == [], "\n".join(wrong)


def test_every_api_route_answers_each_scope_as_the_table_says(matrix_app):
    services = matrix_app.extensions["aftersales"]
    client = matrix_app.test_client()
    api_routes = {k: r for k, r in routes(matrix_app).items() if r.rule.startswith("/api/v1/")}
    wrong = []
    for scope in SCOPES:
        with services.db.transaction() as s:
            _, token = create_key(s, f"only-{scope.replace(':', '-')}", [scope], list(ROLES), by="admin")
        for key, rule in sorted(api_routes.items()):
            access = TABLE[key]
            method = key.split()[0]
            response = client.open(url_of(rule), method=method, headers={"Authorization": f"Bearer {token}"},
                                   **({"json": {}} if method != "GET" else {}))
            response.close()
            expected = access.scope in (None, scope)
            if expected == refused(response):
                wrong.append(f"{key} with a key of {scope}: {response.status_code} "
                             f"(expected {'allowed' if expected else 'refused'})")
    assert wrong == [], "\n".join(wrong)
