"""A real browser opens an instance's trace: bpmn-js draws the deployed diagram with the
completed elements, the flows taken and the current token marked, and drills down into
the called process."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bundle import read_bundle
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.identity import Actor, create_user
from engine.models import WorkItem
from engine.runtime import Runtime
from tests.web.live import chromium, serving, shot
from web import create_app
from web.services import Services

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-1"
TRACED = Path(__file__).parent / "fixtures" / "traced"


@pytest.fixture
def site(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, int]]:
    """The app on loopback with an instance of ``traced`` waiting inside its call activity."""
    path = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    services = Services(load_settings(database_url=db.url), db, Runtime(load_settings()))
    with db.transaction() as s:
        deploy(s, read_bundle([TRACED]), "owner")
        create_user(s, "audrey", PASSWORD, ["auditor"], display_name="Audrey Auditor")
    with db.transaction() as s:
        instance_id = services.runtime.start(s, "traced", {"amount": 150}, "T-77", "agent").instance_id
    with db.transaction() as s:
        register = s.scalars(select(WorkItem).where(WorkItem.element_id == "register")).one()
        services.runtime.complete_task(s, register.task_id, Actor("sam", frozenset({"supervisor"})), {})
    app = create_app({"SECRET_KEY": "browser-test"}, services=services)
    with serving(app) as base:
        yield base, instance_id
    db.dispose()


def _classes(page, element_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return set(page.get_attribute(f'#canvas [data-element-id="{element_id}"]', "class").split())


def test_the_trace_page_marks_the_diagram_and_drills_into_the_called_process(site):
    base, instance_id = site
    with chromium() as context:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and "favicon" not in msg.location.get("url", "") else None)
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "audrey")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/audit/instances/{instance_id}")
        page.wait_for_selector('#trace[data-ready="true"][data-scope="root"]')

        # Then completed elements, the flows taken and the running call activity are marked
        for element in ("start", "register", "compute", "gw"):
            assert "trace-completed" in _classes(page, element), element
        for flow in ("f1", "f2", "f3", "f_big"):
            assert "trace-flow" in _classes(page, flow), flow
        assert "trace-flow" not in _classes(page, "f_small")
        assert {"trace-active", "trace-drill"} <= _classes(page, "call_pack")
        assert not {"trace-completed", "trace-token"} & _classes(page, "review")
        assert page.locator("#timeline tbody tr").count() >= 6
        shot(page, "audit-trace-root")

        # When the auditor clicks the completed script task, its run and data are shown
        page.click('#canvas [data-element-id="compute"]')
        page.wait_for_selector('#element-panel[data-element="compute"] pre.after')
        assert '"big": true' in page.inner_text('#element-panel pre.delta')

        # When the auditor opens the call activity, the called process is drawn with its own token
        page.click('#canvas [data-element-id="call_pack"]')
        page.wait_for_selector('#trace[data-ready="true"]:not([data-scope="root"])')
        assert {"trace-token", "trace-ready"} <= _classes(page, "pack")
        assert "trace-completed" in _classes(page, "pack_start") and "trace-flow" in _classes(page, "p1")
        shot(page, "audit-trace-called-process")

        # and the timeline filter narrows the audit events
        page.fill("#timeline-filter", "task.ready")
        visible = page.locator("#timeline tbody tr:not([hidden])")
        assert visible.count() == 2
        page.click('#timeline tbody tr:not([hidden]) button')
        page.wait_for_selector("#data-panel[data-seq]")
        assert '"amount": 150' in page.inner_text("#data-view")
        assert not errors, errors
