"""Signing in and out, session expiry, rate limiting, language, security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.web.conftest import Browser


def test_sign_in_leads_to_the_tasklist_and_sign_out_ends_the_session(signed_in):
    b = signed_in("agent")
    assert b.get("/").headers["Location"] == "/tasks"
    assert b.get("/tasks").status_code == 200
    assert b.post("/logout").status_code == 302
    assert b.get("/tasks").headers["Location"].startswith("/login")


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(browser, users):
    response = browser.login("agent", "wrong-password")
    assert response.status_code == 401
    assert "Unknown user or wrong password." in response.get_data(as_text=True)


def test_sign_in_redirects_only_to_local_pages(browser, users):
    browser.get("/login")
    response = browser.post("/login?next=//evil.example/x", {"username": "agent", "password": "correct-horse-1"})
    assert response.headers["Location"] == "/"


def test_pages_need_a_signed_in_user(browser):
    for url in ("/tasks", "/tickets", "/requests/new", "/tickets/AS-1"):
        assert browser.get(url).headers["Location"].startswith("/login"), url


def test_sign_in_without_csrf_token_is_refused(browser, users):
    response = browser.post("/login", {"username": "agent", "password": "correct-horse-1"}, csrf=False)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_sign_out_without_csrf_token_is_refused(signed_in):
    b = signed_in("agent")
    assert b.post("/logout", csrf=False).status_code == 400
    assert b.get("/tasks").status_code == 200


def test_too_many_sign_in_attempts_are_rate_limited(app, browser, users):
    app.config["RATELIMIT_LOGIN"] = (3, 300)
    for _ in range(3):
        assert browser.login("agent", "nope-nope-1").status_code == 401
    response = browser.login("agent", "correct-horse-1")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_an_idle_session_expires(app, signed_in, clock):
    # Given a signed-in agent, idle for longer than the limit
    b = signed_in("agent")
    clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    # When they come back, then they must sign in again
    response = b.get("/tasks")
    assert response.headers["Location"].startswith("/login")
    assert "session expired" in b.get("/login").get_data(as_text=True)


def test_activity_keeps_the_session_alive(app, signed_in, clock):
    b = signed_in("agent")
    for _ in range(3):
        clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
        assert b.get("/tasks").status_code == 200


def test_inactive_users_are_signed_out(signed_in, database):
    from engine.models import User

    b = signed_in("agent")
    with database.transaction() as s:
        s.query(User).filter_by(username="agent").update({"active": False})
    assert b.get("/tasks").headers["Location"].startswith("/login")


@pytest.mark.parametrize(("header", "text"), [("zh-CN,zh;q=0.9", "登录"), ("en-US,en;q=0.8", "Sign in")])
def test_language_follows_the_browser(browser, header, text):
    assert text in browser.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)


def test_language_can_be_switched_and_stays(browser):
    response = browser.get("/lang/zh?next=/login")
    assert response.headers["Location"] == "/login"
    assert "登录" in browser.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    browser.get("/lang/en?next=//evil.example")
    assert "Sign in" in browser.get("/login", headers={"Accept-Language": "zh"}).get_data(as_text=True)


def test_security_headers_are_set(browser):
    headers = browser.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"


def test_unknown_pages_are_not_found(browser):
    assert browser.get("/no/such/page").status_code == 404


def test_healthz(browser: Browser):
    assert browser.get("/healthz").get_json()["status"] == "ok"


def test_the_sign_in_prompt_speaks_the_browsers_language(browser):
    browser.get("/tasks", headers={"Accept-Language": "zh-CN"})
    assert "请先登录。" in browser.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


def test_a_session_ends_after_the_longest_lifetime_even_when_active(app, signed_in, clock):
    # Given an agent who keeps working, never idle for long
    b = signed_in("agent")
    step = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    for _ in range(int(app.permanent_session_lifetime / step)):
        clock.advance(step)
        assert b.get("/tasks").status_code == 200
    # When the longest lifetime has passed since signing in, then they sign in again
    clock.advance(step)
    assert b.get("/tasks").headers["Location"].startswith("/login")
