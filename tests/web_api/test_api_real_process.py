"""The API and the auditor's trace on the real ``processes/`` bundle."""

from __future__ import annotations

import copy

import pytest

from engine.bundle import read_bundle
from engine.deploy import deploy
from engine.registry import load_handlers
from handlers.demo import DATA_DIR, load_catalogue
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE


@pytest.fixture
def real(app, services):
    """The real bundle deployed with the demo catalogue, as the API's intake process."""
    load_handlers()
    with services.db.transaction() as s:
        deploy(s, read_bundle([PROCESSES], name="processes"), "owner")
        load_catalogue(s, DATA_DIR)
    app.config.update(INTAKE_PROCESS="after_sales", INTAKE_FORM="register_request.schema.json")
    return app.test_client()


def _request(**changes):
    body = copy.deepcopy(INTAKE)
    body["fault"]["symptoms"] = ["error_code"]  # the public intake form's symptom codes
    body.update(changes)
    return body


def test_an_agent_integration_opens_a_real_ticket_and_a_repeat_contact_joins_it(real, api_key):
    key = api_key("service-requests:write", "service-requests:read", roles=("agent",))
    first = real.post("/api/v1/service-requests", json=_request(), headers=key)
    assert first.status_code == 201, first.get_json()
    opened = first.get_json()
    assert opened["ticket_number"].startswith("AS-2026") and opened["registered"] is True
    again = real.post("/api/v1/service-requests", json=_request(channel="email"), headers=key)
    assert again.status_code == 200
    assert (again.get_json()["ticket_number"], again.get_json()["duplicate"]) == (opened["ticket_number"], True)
    status = real.get(f"/api/v1/service-requests/{opened['ticket_number']}", headers=key).get_json()
    assert status["status"] == "active" and status["current"]


def test_a_channel_without_an_agent_role_gets_the_number_and_leaves_the_triage_to_an_agent(real, api_key, services):
    key = api_key("service-requests:write", "tasks:read", roles=())
    response = real.post("/api/v1/service-requests", json=_request(channel="web"), headers=key)
    assert response.status_code == 201
    number = response.get_json()["ticket_number"]
    assert number.startswith("AS-2026") and response.get_json()["duplicate"] is False
    agent = api_key("tasks:read", roles=("agent",))
    [task] = real.get("/api/v1/tasks?scope=group", headers=agent).get_json()["items"]
    assert (task["element_id"], task["business_key"]) == ("register_request", number)


def test_the_trace_of_a_real_instance_marks_its_path_into_the_called_processes(real, api_key, signed_in):
    key = api_key("service-requests:write", roles=("agent",))
    opened = real.post("/api/v1/service-requests", json=_request(), headers=key).get_json()
    trace = signed_in("auditor").get(f"/audit/instances/{opened['instance_id']}/trace.json").get_json()
    root = trace["scopes"][0]
    assert root["process_id"] == "after_sales"
    for element in ("register_request", "find_open_ticket", "open_new_ticket", "classify_request"):
        assert root["elements"][element]["status"] == "completed", element
    assert "flow_merge_register_to_register_request" in root["flows"]
    assert "flow_gw_number_given_to_record_triage" in root["flows"]  # numbered at arrival, then triaged
    assert root["elements"]["resolve_request"]["status"] == "active"
    [called] = [s for s in trace["scopes"] if s["called_from"] == "resolve_request"]
    assert called["process_id"] == "request_resolution"
    assert any(t["scope"] == called["key"] and t["state"] == "ready" for t in trace["tokens"])
    assert "Li Na" not in str(trace)
    heat = signed_in("process_owner").get(f"/owner/heatmap/{trace['instance']['deployment_id']}/after_sales.json")
    assert next(e for e in heat.get_json()["elements"] if e["element_id"] == "register_request")["executions"] == 1
