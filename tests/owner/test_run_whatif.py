"""What-if: a draft and the deployed version play the same simulated requests on throw-away databases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import drafts
from engine.bundle import read_bundle
from engine.db import Database
from engine.deploy import deploy
from engine.models import Instance
from tests.conftest import PROCESSES
from tests.support.states import starting_state

APPROVAL_LIMIT = "<text>&gt; 1000</text>"


def _deployed_and_draft(database: Database) -> tuple[int, int]:
    """processes/ deployed, and a draft of it whose agents may approve no quote (every one goes to a supervisor)."""
    with database.transaction() as s:
        dep = deploy(s, read_bundle([PROCESSES], name="aftersales"), "owner").deployment_id
        draft_id = drafts.create_draft(s, "No agent approvals", "owner", from_deployment_id=dep)["id"]
        dmn = drafts.read_file(s, draft_id, "quote_approval.dmn").decode()
        assert APPROVAL_LIMIT in dmn
        drafts.save_file(s, draft_id, "quote_approval.dmn", dmn.replace(APPROVAL_LIMIT, "<text>&gt; 0</text>").encode(),
                         "owner")
    return dep, draft_id


#: built once per test process (tests/support/states.py), each test's database a copy of it
whatif_draft_state = starting_state("whatif_draft_state", _deployed_and_draft, after=["web_users_state"])


@pytest.fixture
def deployed_and_draft(services, app, tmp_path, whatif_draft_state):
    """processes/ deployed and the draft without agent approvals (``whatif_draft_state``); what-ifs go to tmp_path."""
    app.config["WHATIF_DIR"] = str(tmp_path / "whatif")
    return whatif_draft_state


def json_post(client, url, body):
    return client.client.post(url, json=body, headers={"X-CSRFToken": client.token, "Accept": "application/json"})


def finished(client, job_id: str) -> dict:
    """Poll the job until it is no longer running (the simulator runs in its own process)."""
    deadline = time.monotonic() + 3600  # a limit on waiting, not a measurement
    while time.monotonic() < deadline:
        status = client.client.get(f"/owner/api/whatif/{job_id}").get_json()
        assert 0 <= status["progress"] <= 1
        if status["state"] != "running":
            return status
        time.sleep(0.2)
    raise AssertionError("the what-if did not end")


@pytest.mark.slow
def test_a_what_if_of_50_tickets_shows_what_a_lower_approval_limit_changes(services, signed_in, deployed_and_draft):
    dep, draft_id = deployed_and_draft
    owner = signed_in("process_owner")
    page = owner.get(f"/owner/drafts/{draft_id}/whatif")
    assert page.status_code == 200 and "No agent approvals" in page.get_data(as_text=True)

    # When the owner runs a what-if of 50 tickets of the draft against the deployed version
    started = json_post(owner, f"/owner/api/drafts/{draft_id}/whatif", {"tickets": 50, "seed": 3, "days": 7})
    assert started.status_code == 202, started.get_data(as_text=True)
    status = finished(owner, started.get_json()["job_id"])

    # Then both sides played the same 50 requests, and the lower limit shows in the figures and heatmaps
    assert status["state"] == "done", status
    # (its week is the one before the engine's day, 2 March 2026 here, not the wall clock's: the same figures any day)
    assert status["request"]["first_day"] == "2026-02-23"
    tried, deployed = status["result"]["tried"], status["result"]["deployed"]
    assert tried["requests"] == deployed["requests"] >= 50  # 50 new requests, and repeat contacts
    assert tried["tickets"] == deployed["tickets"] > 0
    approvals = [{e["element_id"]: e["executions"] for e in side["heatmaps"]["quote_approval"]["elements"]}
                 for side in (tried, deployed)]
    assert approvals[0] != approvals[1], (approvals, {k: (tried[k], deployed[k]) for k in ("tickets", "routes")})
    keys = ("sla_attainment", "resolution_median_hours", "resolution_p90_hours", "cost_per_ticket", "routes")
    assert any(tried[k] != deployed[k] for k in keys)
    assert tried["routes"] and tried["files"]["after_sales"] == "after_sales.bpmn"

    # And the page shows both sides, and the live database got no simulated ticket
    text = owner.get(f"/owner/drafts/{draft_id}/whatif?job={started.get_json()['job_id']}").get_data(as_text=True)
    assert "Tickets per route" in text and 'id="heat-tried"' in text
    with services.db.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0


def test_an_invalid_draft_cannot_be_tried(services, signed_in, deployed_and_draft, app):
    dep, draft_id = deployed_and_draft
    with services.db.transaction() as s:
        drafts.save_file(s, draft_id, "quote_approval.bpmn", b"<bpmn:definitions", "owner")
    owner = signed_in("process_owner")
    owner.get(f"/owner/drafts/{draft_id}/whatif")
    response = json_post(owner, f"/owner/api/drafts/{draft_id}/whatif", {"tickets": 50})
    assert response.status_code == 422
    assert any(p["file"] == "quote_approval.bpmn" for p in response.get_json()["problems"])
    assert not list(Path(app.config["WHATIF_DIR"]).glob("*/request.json"))


@pytest.mark.parametrize(("body", "field"), [({"tickets": 0}, "tickets"), ({"days": "many"}, "days"),
                                             ({"seed": -1}, "seed")])
def test_bad_what_if_settings_are_refused_naming_the_field(signed_in, deployed_and_draft, body, field):
    _, draft_id = deployed_and_draft
    owner = signed_in("process_owner")
    owner.get(f"/owner/drafts/{draft_id}/whatif")
    response = json_post(owner, f"/owner/api/drafts/{draft_id}/whatif", body)
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_an_unknown_job_is_not_found(signed_in, deployed_and_draft):
    owner = signed_in("process_owner")
    response = owner.client.get("/owner/api/whatif/0123456789abcdef", headers={"Accept": "application/json"})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_other_roles_may_not_run_a_what_if(signed_in, deployed_and_draft, role):
    _, draft_id = deployed_and_draft
    someone = signed_in(role)
    someone.get("/service/")
    assert someone.client.get(f"/owner/drafts/{draft_id}/whatif").status_code == 403
    assert json_post(someone, f"/owner/api/drafts/{draft_id}/whatif", {"tickets": 5}).status_code == 403


def test_a_what_if_whose_side_cannot_be_read_fails_naming_it_and_stops_the_other_side(tmp_path):
    # Given a what-if job whose tried side points at a folder that is not there
    shutil.copytree(PROCESSES, tmp_path / "deployed")
    (tmp_path / "request.json").write_text(json.dumps({
        "arms": {"deployed": "deployed", "tried": "missing"}, "tickets": 1, "days": 1, "seed": 1,
        "first_day": "2026-03-02"}), encoding="utf-8")

    # When the simulator runs it (both sides at once, each in a process of its own)
    code = subprocess.run([sys.executable, "-m", "simulation.whatif", str(tmp_path)], cwd=PROCESSES.parent,
                          timeout=600).returncode

    # Then the job failed naming the missing folder, and the deployed side was stopped rather than played out
    status = json.loads((tmp_path / "status.json").read_text(encoding="utf-8"))
    assert code == 2 and status["state"] == "failed", status
    assert status["error"]["params"]["path"] == str(tmp_path / "missing")
    assert not (tmp_path / "deployed.outcome.json").exists()
