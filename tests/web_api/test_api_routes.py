"""The REST API: each route's success, bad input and refusal, keys and sessions, limits."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, Deployment, WorkItem
from tests.web_api.conftest import REQUEST

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def client(app):
    return app.test_client()


def _open(client, headers, body=None):
    return client.post("/api/v1/service-requests", json=body or REQUEST, headers=headers)


def test_a_channel_opens_a_ticket_and_a_repeat_contact_joins_it(client, intake, api_key):
    key = api_key("service-requests:write", "service-requests:read")
    first = _open(client, key)
    assert first.status_code == 201
    body = first.get_json()
    assert body["ticket_number"].startswith("AS-") and body["duplicate"] is False
    again = _open(client, key, {**REQUEST, "channel": "email", "fault": {"description": "Still flickering"}})
    assert again.status_code == 200
    assert again.get_json()["ticket_number"] == body["ticket_number"] and again.get_json()["duplicate"] is True
    status = client.get(f"/api/v1/service-requests/{body['ticket_number']}", headers=key).get_json()
    assert (status["instance_id"], status["status"], status["current"]) == (body["instance_id"], "active", ["Triage"])
    assert client.get("/api/v1/service-requests/AS-00000000-00000", headers=key).status_code == 404


@pytest.mark.parametrize(("body", "status", "field"), [
    ({**REQUEST, "channel": "fax"}, 422, "channel"),
    ({**REQUEST, "customer": {"name": "Ada"}}, 422, "customer"),
    ({**REQUEST, "surprise": 1}, 422, "'surprise'"),
    ({**REQUEST, "expectation": "x\u0000y"}, 400, "/expectation"),
])
def test_a_bad_service_request_names_the_field(client, intake, api_key, body, status, field):
    response = _open(client, api_key("service-requests:write"), body)
    assert response.status_code == status
    error = response.get_json()
    assert error["code"] in ("validation_failed", "invalid_input")
    assert field in str(error.get("errors") or error.get("field")), error


@pytest.mark.parametrize(("data", "content_type"), [(b"{not json", "application/json"), (b"[1,2]", "application/json"),
                                                    (b"channel=web", "application/x-www-form-urlencoded"),
                                                    (b"[" * 5000 + b"]" * 5000, "application/json"),
                                                    (b'{"channel": NaN}', "application/json")])
def test_malformed_bodies_get_400_or_422_never_500(client, intake, api_key, data, content_type):
    response = client.post("/api/v1/service-requests", data=data, content_type=content_type,
                           headers=api_key("service-requests:write"))
    assert response.status_code in (400, 422)
    assert set(response.get_json()) >= {"code", "message"}


def test_no_key_an_unknown_key_and_a_revoked_key_are_401(client, intake, api_key, services):
    from engine.apikeys import revoke_key

    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Basic abc"}).status_code == 401
    bad = client.get("/api/v1/tasks", headers={"Authorization": "Bearer as_nope_nope"})
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Bearer")
    assert bad.get_json() == {"code": "unauthenticated", "message": "unknown or revoked API key"}
    key = api_key("tasks:read")
    assert client.get("/api/v1/tasks", headers=key).status_code == 200
    with services.db.transaction() as s:
        revoke_key(s, "integration-0")
    assert client.get("/api/v1/tasks", headers=key).status_code == 401


def test_a_key_without_the_scope_is_403(client, intake, api_key):
    key = api_key("tasks:read")
    response = _open(client, key)
    assert response.status_code == 403 and "service-requests:write" in response.get_json()["message"]
    assert client.post("/api/v1/messages", json={"name": "x", "correlation_key": "y"}, headers=key).status_code == 403


def test_tasks_are_listed_claimed_and_completed_with_the_keys_roles(client, intake, api_key, services):
    _open(client, api_key("service-requests:write"))
    agent = api_key("tasks:read", "tasks:write", roles=("agent",))
    listing = client.get("/api/v1/tasks?scope=group", headers=agent).get_json()
    [task] = listing["items"]
    assert (listing["total"], task["name"], task["role"]) == (1, "Triage", "agent")
    outsider = api_key("tasks:read", "tasks:write", roles=("warehouse",))
    assert client.get("/api/v1/tasks?scope=group", headers=outsider).get_json()["total"] == 0
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=outsider).status_code == 403
    claimed = client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=agent)
    assert claimed.status_code == 200 and claimed.get_json()["assignee"].startswith("api:integration-")
    other_agent = api_key("tasks:write", roles=("agent",))
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=other_agent).status_code == 409
    assert client.post(f"/api/v1/tasks/{task['task_id']}/complete", json={"data": {"x": 1}},
                       headers=agent).status_code == 400  # the task has no form
    done = client.post(f"/api/v1/tasks/{task['task_id']}/complete", json={}, headers=agent)
    assert done.status_code == 200 and done.get_json()["status"] == "active"
    again = client.post(f"/api/v1/tasks/{task['task_id']}/complete", json={}, headers=agent)
    assert again.status_code == 409 and again.get_json()["code"] == "task_not_ready"
    assert client.post("/api/v1/tasks/not-a-task/claim", headers=agent).status_code == 404
    assert client.get("/api/v1/tasks?limit=0", headers=agent).status_code == 400
    assert client.get("/api/v1/tasks?scope=everything", headers=agent).status_code == 400


def test_a_message_reaches_the_waiting_instance_and_an_unknown_key_is_404(client, intake, api_key, services):
    ticket = _open(client, api_key("service-requests:write")).get_json()
    agent = api_key("tasks:read", "tasks:write", roles=("agent",))
    [task] = client.get("/api/v1/tasks?scope=group", headers=agent).get_json()["items"]
    client.post(f"/api/v1/tasks/{task['task_id']}/complete", json={}, headers=agent)
    key = api_key("messages:write", "instances:read")
    msg = {"name": "customer_answer", "correlation_key": ticket["ticket_number"], "payload": {"accepted": True}}
    delivered = client.post("/api/v1/messages", json=msg, headers=key)
    assert delivered.get_json() == {"delivered_to": [ticket["instance_id"]]}
    assert client.get(f"/api/v1/instances/{ticket['instance_id']}", headers=key).get_json()["status"] == "completed"
    missing = client.post("/api/v1/messages", json={**msg, "correlation_key": "AS-NOPE"}, headers=key)
    assert missing.status_code == 404 and missing.get_json()["code"] == "message_not_correlated"
    assert client.post("/api/v1/messages", json={"name": "a b"}, headers=key).status_code == 422


def test_instance_events_are_masked_with_hashes_and_unmasking_is_audited(client, intake, api_key, services):
    ticket = _open(client, api_key("service-requests:write")).get_json()
    reader = api_key("instances:read")
    url = f"/api/v1/instances/{ticket['instance_id']}/events"
    page = client.get(url, headers=reader).get_json()
    assert page["events"][0]["kind"] == "instance.created" and len(page["events"][0]["hash"]) == 64
    assert "Ada Lovelace" not in str(page) and page["head"]["seq"] == len(page["events"])
    assert client.get(f"{url}?after_seq=2&limit=1", headers=reader).get_json()["events"][0]["seq"] == 3
    assert client.get(f"{url}?unmask=true&reason=x", headers=reader).status_code == 403
    privileged = api_key("instances:read", roles=("supervisor",))
    assert client.get(f"{url}?unmask=true", headers=privileged).status_code == 400
    shown = client.get(f"{url}?unmask=true&reason=complaint", headers=privileged).get_json()
    assert "Ada Lovelace" in str(shown)
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(AuditEvent.kind).where(AuditEvent.stream == "privacy")).all() == [
            "personal_data.unmasked"]
    assert client.get("/api/v1/instances/999999", headers=reader).status_code == 404
    assert client.get("/api/v1/instances/99999999999", headers=reader).status_code == 404


def test_definitions_and_deployments(client, api_key, services):
    import tests.handlers_for_tests  # noqa: F401

    key = api_key("definitions:read", "deployments:write")
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted((FIXTURES / "order").iterdir())]
    dry = client.post("/api/v1/deployments", data={"name": "order", "dry_run": "true", "files": files},
                      headers=key, content_type="multipart/form-data")
    assert dry.status_code == 200 and dry.get_json()["dry_run"] is True
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted((FIXTURES / "order").iterdir())]
    made = client.post("/api/v1/deployments", data={"name": "order", "files": files}, headers=key,
                       content_type="multipart/form-data")
    assert made.status_code == 201 and made.get_json()["version"] == 1
    items = client.get("/api/v1/definitions", headers=key).get_json()["items"]
    assert {(i["process_id"], i["version"]) for i in items} >= {("order_fulfilment", 1), ("shipping_method", 1)}
    broken = client.post("/api/v1/deployments", headers=key, content_type="multipart/form-data",
                         data={"name": "b", "files": [(io.BytesIO(b"<bpmn:definitions"), "b.bpmn")]})
    assert broken.status_code == 422 and broken.get_json()["problems"][0]["file"] == "b.bpmn"
    assert client.post("/api/v1/deployments", headers=key, content_type="multipart/form-data",
                       data={"name": "../x", "files": []}).status_code == 400
    with services.db.transaction(write=False) as s:
        assert [d.name for d in s.scalars(select(Deployment))] == ["order"]


def test_bodies_over_the_limit_are_413(client, app, intake, api_key):
    app.config["API_MAX_JSON_BYTES"] = 1000
    response = client.post("/api/v1/service-requests", data=b"{" + b" " * 2000 + b"}",
                           content_type="application/json", headers=api_key("service-requests:write"))
    assert response.status_code == 413 and response.get_json()["code"] == "payload_too_large"


def test_the_ui_session_works_but_needs_the_csrf_token_for_changes(signed_in, intake, services):
    agent = signed_in("agent")
    assert agent.client.get("/api/v1/tasks").status_code == 200
    refused = agent.client.post("/api/v1/service-requests", json=REQUEST)
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf_failed"
    page = agent.client.get("/", follow_redirects=True).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    accepted = agent.client.post("/api/v1/service-requests", json=REQUEST, headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201
    assert signed_in("auditor").client.post("/api/v1/service-requests", json=REQUEST,
                                            headers={"X-CSRFToken": csrf}).status_code in (400, 403)
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(WorkItem)).all()
