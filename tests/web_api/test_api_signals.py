"""``POST /api/v1/signals`` (scope ``signals:write``, supervisors and admins), the undelivered
messages (``GET /api/v1/undelivered-messages`` and the owner page), and who may use them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.identity import Actor
from engine.models import AuditEvent, Instance, SignalSubscription, WorkItem

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"
SUPERVISOR = Actor("boss", frozenset({"supervisor"}))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def jobs(deploy_fixture, services):
    """Two field jobs waiting for a product recall (``tests/fixtures/events``)."""
    deploy_fixture(EVENTS)
    with services.db.transaction() as s:
        return [services.runtime.start(s, "field_job", {}, key, "agent").instance_id for key in ("J-1", "J-2")]


@pytest.fixture
def undelivered(deploy_fixture, services):
    """A closing that told the warranty desk about serial SN-7, which nobody listens to."""
    deploy_fixture(EVENTS)
    with services.db.transaction() as s:
        instance_id = services.runtime.start(s, "closing", {"serial": "SN-7", "email": "li.lei@example.com"},
                                             "AS-7", "agent").instance_id
    with services.db.transaction(write=False) as s:
        task_id = s.scalars(select(WorkItem.task_id).where(WorkItem.instance_id == instance_id)).one()
    with services.db.transaction() as s:
        services.runtime.complete_task(s, task_id, SUPERVISOR, {})
    return instance_id


def _state(services):
    with services.db.transaction(write=False) as s:
        return (s.scalar(select(func.count()).select_from(SignalSubscription)),
                sorted(s.scalars(select(Instance.process_id))),
                s.scalars(select(AuditEvent.kind).where(AuditEvent.stream == "signals")).all())


def _csrf(browser):
    page = browser.client.get("/", follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_key_with_the_signal_scope_broadcasts_and_learns_who_received_it(client, jobs, api_key, services):
    # When an integration acting as supervisor broadcasts the recall of batch B-7
    response = client.post("/api/v1/signals", json={"name": "product_recall", "payload": {"batch": "B-7"}},
                           headers=api_key("signals:write", roles=("supervisor",)))

    # Then both waiting jobs received it and a recall campaign started
    assert response.status_code == 200
    campaign = max(jobs) + 1
    assert response.get_json() == {"signal": "product_recall", "received": jobs, "started": [campaign]}
    with services.db.transaction(write=False) as s:
        items = sorted((w.instance_id, w.element_id) for w in s.scalars(select(WorkItem)))
    assert items == [(jobs[0], "handle_recall"), (jobs[1], "handle_recall"), (campaign, "contact_customers")]
    assert _state(services) == (0, ["field_job", "field_job", "recall_campaign"], ["signal.broadcast"])


def test_a_supervisor_broadcasts_from_the_signed_in_session(signed_in, jobs, services):
    supervisor = signed_in("supervisor")
    response = supervisor.client.post("/api/v1/signals", json={"name": "product_recall"},
                                      headers={"X-CSRFToken": _csrf(supervisor)})
    assert response.status_code == 200
    assert response.get_json()["received"] == jobs


@pytest.mark.parametrize(("caller", "status", "says"), [
    ("key without the scope", 403, "lacks the scope 'signals:write'"),
    ("key acting as agent", 403, "may not broadcast signals (needs the role admin or supervisor)"),
    ("agent session", 403, "lacks the scope 'signals:write'"),
    ("process owner session", 403, "lacks the scope 'signals:write'"),
    ("unknown key", 401, "unknown or revoked API key"),
])
def test_a_caller_without_the_right_is_refused_and_nothing_changes(app, signed_in, jobs, api_key, services,
                                                                   caller, status, says):
    before = _state(services)
    client, headers = app.test_client(), {"Authorization": "Bearer as_00000000_unknown"}
    if caller == "key without the scope":
        headers = api_key("messages:write", "instances:read", roles=("supervisor",))
    elif caller == "key acting as agent":
        headers = api_key("signals:write", roles=("agent",))
    elif caller.endswith("session"):
        browser = signed_in("agent" if caller.startswith("agent") else "process_owner")
        client, headers = browser.client, {"X-CSRFToken": _csrf(browser)}
    response = client.post("/api/v1/signals", json={"name": "product_recall", "payload": {"batch": "B-7"}},
                           headers=headers)
    assert response.status_code == status
    assert says in response.get_json()["message"]
    assert _state(services) == before == (2, ["field_job", "field_job"], [])


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"name": "product recall!"}, 422, "name"),
    ({"name": "product_recall", "payload": [1, 2]}, 422, "payload"),
    ({"name": "product_recall", "surprise": 1}, 422, "'surprise'"),
    ({"name": "product_recall", "payload": {"typename": "x"}}, 400, "/typename"),
])
def test_a_bad_signal_body_names_the_field_and_changes_nothing(client, jobs, api_key, services, body, status,
                                                               field):
    response = client.post("/api/v1/signals", json=body, headers=api_key("signals:write", roles=("admin",)))
    assert response.status_code == status
    error = response.get_json()
    assert field in str(error.get("errors") or error.get("field")), error
    assert _state(services)[0] == 2


def test_readers_of_instances_list_the_undelivered_messages_with_personal_data_masked(client, undelivered,
                                                                                      api_key):
    response = client.get("/api/v1/undelivered-messages", headers=api_key("instances:read"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1
    [item] = body["items"]
    assert item["at"] == "2026-03-02T09:00:00+00:00"
    assert {k: item[k] for k in ("instance_id", "business_key", "process_id", "element_id", "message",
                                 "correlation_key", "payload")} == {
        "instance_id": undelivered, "business_key": "AS-7", "process_id": "closing",
        "element_id": "claim_warranty", "message": "warranty_claim", "correlation_key": "AS-7",
        "payload": {"serial": "SN-7", "email": "l***@example.com"}}
    assert client.get("/api/v1/undelivered-messages?limit=1&offset=1",
                      headers=api_key("instances:read")).get_json() == {"items": [], "total": 1}
    refused = client.get("/api/v1/undelivered-messages", headers=api_key("messages:write"))
    assert refused.status_code == 403


@pytest.mark.parametrize(("role", "language", "heading"), [
    ("process_owner", "en", "Undelivered messages"), ("supervisor", "zh", "未送达的消息")])
def test_owners_and_supervisors_see_the_undelivered_messages_page(signed_in, undelivered, role, language, heading):
    browser = signed_in(role)
    browser.client.get(f"/lang/{language}")
    page = browser.client.get("/owner/undelivered-messages")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html
    row = re.search(r'<tr data-undelivered="\d+">(.*?)</tr>', html, re.S).group(1)
    assert "2026-03-02 17:00:00" in row  # shown in the business time zone (Asia/Shanghai)
    assert "AS-7" in row and f"/audit/instances/{undelivered}" in row
    assert "warranty_claim" in row and "claim_warranty" in row
    assert "l***@example.com" in row and "li.lei@example.com" not in html
    nav = browser.client.get("/audit/instances").get_data(as_text=True)
    assert 'href="/owner/undelivered-messages"' in nav


def test_other_staff_may_not_open_the_undelivered_messages_page(signed_in, undelivered):
    for role in ("agent", "auditor"):
        assert signed_in(role).client.get("/owner/undelivered-messages").status_code == 403


def test_the_owner_area_links_to_the_undelivered_messages(signed_in):
    owner = signed_in("process_owner")
    for page in ("/owner/definitions", "/owner/incidents"):
        assert 'href="/owner/undelivered-messages"' in owner.client.get(page).get_data(as_text=True)
    empty = owner.client.get("/owner/undelivered-messages").get_data(as_text=True)
    assert "No message went undelivered." in empty
