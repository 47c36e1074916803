"""Session cookies are Secure over HTTPS (behind a proxy only when the proxy is trusted), HttpOnly
and SameSite=Lax; every answer — page, error page, API, file — carries the security headers."""

from __future__ import annotations

import pytest

from engine.errors import ConfigError
from web import create_app
from web.security import HEADERS


def session_cookie(response) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def attributes(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_over_plain_http_the_session_cookie_is_httponly_and_lax_but_not_secure(app):
    cookie = session_cookie(app.test_client().get("/login"))
    assert {"httponly", "samesite", "path"} <= attributes(cookie) and "SameSite=Lax" in cookie
    assert "secure" not in attributes(cookie)


def test_over_https_the_session_cookie_is_secure_and_hsts_is_sent(app):
    response = app.test_client().get("/login", base_url="https://aftersales.example")
    assert {"secure", "httponly", "samesite"} <= attributes(session_cookie(response))
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_forwarded_proto_is_ignored_unless_the_proxy_is_trusted(app):
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in attributes(session_cookie(response))
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_proxy_https_is_taken_from_x_forwarded_proto(services):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "TRUSTED_PROXIES": 1}, services=services)
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https",
                                                        "X-Forwarded-Host": "service.example"})
    assert "secure" in attributes(session_cookie(response))
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("value", ["lots", -1, 99, True])
def test_a_malformed_trusted_proxies_setting_is_refused_naming_it(services, value):
    with pytest.raises(ConfigError, match="AFTERSALES_TRUSTED_PROXIES"):
        create_app({"TESTING": True, "SECRET_KEY": "k", "TRUSTED_PROXIES": value}, services=services)


def _every_kind_of_answer(app, signed_in):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/__boom")
    def boom():  # a view that fails: the 500 page needs the headers too
        raise RuntimeError("boom")

    anonymous = app.test_client()
    agent = signed_in("agent")
    answers = {
        "page": anonymous.get("/login"),
        "redirect": anonymous.get("/tasks"),
        "404 page": anonymous.get("/no-such-page"),
        "405 page": anonymous.put("/login"),
        "csrf 400": anonymous.post("/login", data={"username": "x"}),
        "403 page": agent.get("/admin/api-keys/"),
        "500 page": anonymous.get("/__boom"),
        "api 401": anonymous.get("/api/v1/tasks"),
        "api 404": anonymous.get("/api/v1/nothing"),
        "api document": anonymous.get("/api/v1/openapi.json"),
        "health": anonymous.get("/healthz"),
        "static file": anonymous.get("/static/app.js"),
        "customer page": anonymous.get("/service/"),
    }
    for response in answers.values():
        response.close()
    return answers


def test_every_kind_of_answer_carries_the_security_headers(app, signed_in):
    for kind, response in _every_kind_of_answer(app, signed_in).items():
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (kind, name, response.status_code)
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
        if kind != "static file":
            assert response.headers.get("Cache-Control") == "no-store", kind
