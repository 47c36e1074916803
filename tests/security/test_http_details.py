"""HTTP as documented: 401 with WWW-Authenticate before any CSRF check for API callers without
a key, ``Allow`` on every 405."""

from __future__ import annotations

import pytest

from tests.web_api.conftest import REQUEST


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic YWRhOnNlY3JldA=="}, {"Authorization": "Bearer "}],
                         ids=["no header", "basic", "empty bearer"])
def test_an_api_post_without_a_key_is_401_not_a_csrf_failure(app, headers):
    response = app.test_client().post("/api/v1/service-requests", json=REQUEST, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_api_post_with_an_unknown_key_is_401(app):
    response = app.test_client().post("/api/v1/messages", json={"name": "x", "correlation_key": "y"},
                                      headers={"Authorization": "Bearer as_not-a-key"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_still_needs_the_csrf_token_for_an_api_post(signed_in):
    b = signed_in("agent")
    response = b.client.post("/api/v1/service-requests", json=REQUEST)
    assert response.status_code == 400 and response.get_json()["code"] == "csrf_failed"


@pytest.mark.parametrize(("method", "url", "allowed"), [
    ("delete", "/api/v1/tasks", {"GET"}),
    ("put", "/api/v1/service-requests", {"POST"}),
    ("get", "/api/v1/messages", {"POST"}),
    ("put", "/login", {"GET", "POST"}),
    ("get", "/logout", {"POST"}),
    ("delete", "/service/request", {"GET", "POST"}),
])
def test_a_405_says_which_methods_are_allowed(app, method, url, allowed):
    response = getattr(app.test_client(), method)(url)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
    if url.startswith("/api/"):
        assert response.get_json()["code"] == "method_not_allowed"
