"""Only paths of this site may follow a sign-in, a language switch or a task action (``next``)."""

from __future__ import annotations

import pytest

from web.access import safe_next

#: ``next`` values as the view receives them (already percent-decoded once by the query string)
HOSTILE = (
    "//evil.example/phish",
    "/\t/evil.example/phish",  # what /login?next=/%09/evil.example/phish arrives as
    "/%09/evil.example/phish",  # the same, encoded twice
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%0d%0aLocation:%20https://evil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "\\\\evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/ /evil.example",
    "/\u3000/evil.example",
    " /tasks",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "evil.example/tasks",
    "/\x00/evil.example",
    "",
)
SAFE = ("/tasks", "/tickets?q=Li%20Lei", "/tickets/AS-20260302-00001", "/tasks?tab=all&sort=due_at#top")


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_next_falls_back(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", SAFE)
def test_a_path_of_this_site_is_kept(target):
    assert safe_next(target, "/home") == target


def test_sign_in_never_leads_off_the_site(app, browser, users):
    app.config["RATELIMIT_LOGIN"] = (len(HOSTILE) + 1, 300)
    for target in HOSTILE:
        browser.get("/login")
        response = browser.post("/login", {"username": "agent", "password": "correct-horse-1"},
                                query_string={"next": target})
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target
        browser.post("/logout")


def test_sign_in_from_the_literal_tab_url_goes_home(browser, users):
    browser.get("/login")
    response = browser.post("/login?next=/%09/evil.example/phish",
                            {"username": "agent", "password": "correct-horse-1"})
    assert response.headers["Location"] == "/"


def test_sign_in_follows_a_local_next(browser, users):
    browser.get("/login")
    response = browser.post("/login", {"username": "agent", "password": "correct-horse-1"},
                            query_string={"next": "/tickets?q=Li%20Lei"})
    assert response.headers["Location"] == "/tickets?q=Li%20Lei"


@pytest.mark.parametrize("target", HOSTILE)
def test_switching_language_never_leads_off_the_site(browser, target):
    response = browser.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_switching_language_from_the_literal_tab_url_goes_home(browser):
    assert browser.get("/lang/zh?next=/%09/evil.example/phish").headers["Location"] == "/"
    assert browser.get("/lang/zh?next=/tasks").headers["Location"] == "/tasks"


def test_a_task_action_never_leads_off_the_site(signed_in, repair_ticket):
    from tests.web.conftest import open_tasks

    b = signed_in("technician")
    task = open_tasks(b.client.application.extensions["aftersales"], repair_ticket)[0]
    b.get("/tasks")
    response = b.post(f"/tasks/{task.task_id}/claim", {"next": "/\t/evil.example/phish"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
