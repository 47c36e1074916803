"""Every bundled process goes through the editor (bpmn-js import, then export) with its dialect intact.

test_moddle_roundtrip.py proves the moddle descriptor; this proves the whole editor in Chromium:
what bpmn-js writes back for each process keeps every ``spiffworkflow:`` extension, and merely
opening a file saves nothing. Timer expressions read in plain words.
"""

from __future__ import annotations

import json

import pytest

from tests.owner.test_browser_workbench import BUILD, PROCESSES, api
from tests.owner.test_moddle_roundtrip import _extensions
from tests.web.live import chromium, live_site, sign_in

pytestmark = pytest.mark.browser


def test_the_editor_writes_back_every_bundled_process_with_its_spiffworkflow_extensions(tmp_path, sqlite_template):
    assert BUILD.is_file(), "the editor is not built: run scripts/install"
    with live_site(tmp_path, sqlite_template, [PROCESSES], {"owner": ["process_owner"]}) as (base, _services), \
            chromium() as context:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        writes: list[str] = []
        page.on("request", lambda r: writes.append(r.url) if r.method in ("PUT", "DELETE") else None)
        sign_in(page, base, "owner")
        page.goto(f"{base}/owner/workbench")
        created = api(page, "POST", "/owner/api/drafts", {"name": "round trip", "from_deployment_id": 1})
        draft = json.loads(created["text"])
        page.goto(f"{base}/owner/drafts/{draft['id']}/edit")
        page.wait_for_selector("body[data-workbench=ready]", timeout=30_000)
        sources = sorted(PROCESSES.glob("*.bpmn"))
        assert sources
        for source in sources:
            page.click(f"#wb-files a[data-path='{source.name}']")
            page.wait_for_function("p => window.workbench.state.current === p && !window.workbench.state.loading",
                                   arg=source.name)
            xml = page.evaluate("async () => (await window.workbench.bpmn.saveXML({format: true})).xml")
            assert _extensions(xml.encode()) == _extensions(source.read_bytes()), source.name
        assert page.evaluate("() => window.workbench.state.saving.size") == 0
        assert writes == []  # opening files saved nothing
        words = page.evaluate("""() => ['"P3D"', 'PT1H30M', "'R3/PT1H'", 'P1W', '"2026-01-01T09:00:00Z"', 'soon', '']
            .map(window.workbench.timerWords)""")
        assert words == ["3 days", "1 hour, 30 minutes", "every 1 hour, 3 times", "1 week", "at 2026-01-01T09:00:00Z",
                         None, None]
        assert errors == []
