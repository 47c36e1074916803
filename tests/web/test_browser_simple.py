"""Real-browser tests on the small fixture process: sign in, tasklist, a form with errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.handlers_for_tests  # noqa: F401
from engine.bundle import read_bundle
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.identity import create_user
from engine.runtime import Runtime
from tests.conftest import FIXTURES
from tests.web.live import chromium, serving, shot
from web import create_app
from web.services import Services

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-1"


@pytest.fixture
def site(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, Services]]:
    """The app on a SQLite file with the simple process and an agent, served on loopback."""
    path = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    services = Services(load_settings(database_url=db.url), db, Runtime(load_settings()))
    with db.transaction() as s:
        deploy(s, read_bundle([FIXTURES / "simple"]), "owner")
        create_user(s, "ann", PASSWORD, ["agent"], display_name="Ann Agent")
        create_user(s, "sam", PASSWORD, ["supervisor"], display_name="Sam Supervisor")
    app = create_app({"SECRET_KEY": "browser-test", "INTAKE_PROCESS": "simple"}, services=services)
    with serving(app) as base:
        yield base, services
    db.dispose()


def sign_in(page, base: str, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_agent_works_a_task_from_the_group_queue_with_validation_errors(site):
    # Given two requests waiting in the agents' queue
    base, services = site
    with services.db.transaction() as s:
        for n, prio in ((1, "high"), (2, "low")):
            services.runtime.start(
                s,
                "simple",
                {
                    "channel": "hotline",
                    "priority": prio,
                    "customer_tier": "vip" if n == 1 else "normal",
                },
                f"AS-20260302-0000{n}",
                "system",
            )
    with chromium() as context:
        page = context.new_page()
        sign_in(page, base, "ann")
        # When the agent opens the groups' tab and claims the first task
        page.click("text=My groups' tasks")
        assert page.locator("table.tasklist tbody tr").count() == 2
        shot(page, "tasklist-group")
        page.locator("table.tasklist tbody tr").first.locator("button:has-text('Claim')").click()
        page.click("a.tab:has-text('My tasks')")
        shot(page, "tasklist-mine")
        page.click("table.tasklist tbody tr >> nth=0 >> td.col-name a")
        # And submits a wrong amount (the browser's own checks switched off to reach the server)
        page.fill("[name=customer]", "Bob <script>alert(1)</script>")
        page.fill("[name=amount]", "-5")
        page.eval_on_selector("form.taskform", "f => f.noValidate = true")
        page.click("button:has-text('Complete task')")
        # Then the server shows the error next to the field and keeps what was typed
        assert page.locator(".field-error").count() == 1
        assert page.input_value("[name=customer]") == "Bob <script>alert(1)</script>"
        shot(page, "task-form-validation-errors")
        page.fill("[name=amount]", "50")
        page.click("button:has-text('Complete task')")
        # And the next step of the same ticket opens at once
        assert page.locator("h1").inner_text() == "Review"
        shot(page, "task-review")
