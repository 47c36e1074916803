"""``POST /api/v1/messages`` under the bundle's message contracts: 422 naming the field, 403 for
a sender the contract does not name — and in both cases the instance is left as it was."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.bundle import Bundle
from engine.deploy import deploy
from engine.models import AuditEvent, Instance

HERE = Path(__file__).parent
PROCESSES = HERE.parents[1] / "processes"
TICKET = "AS-20260302-00077"
WARNING = {"kind": "response", "target": "PT4H", "due_at": "2026-03-02T13:00:00+00:00"}
PLAIN_CHANNEL = ("messages:write", "service-requests:write")
CUSTOMER_APP = ("messages:write", "messages:customer")


@pytest.fixture
def client(app: Any) -> Any:
    """A test client of the app (API calls carry their key)."""
    return app.test_client()


@pytest.fixture
def waiting(services: Any) -> int:
    """An instance waiting for quote_response (cancellable) and open to sla_warning, under the real contracts."""
    files = {"answers.bpmn": (HERE / "fixtures" / "answers" / "answers.bpmn").read_bytes(),
             "messages.json": (PROCESSES / "messages.json").read_bytes()}
    files.update({f"messages/{p.name}": p.read_bytes() for p in sorted((PROCESSES / "messages").glob("*.json"))})
    with services.db.transaction() as s:
        deploy(s, Bundle("answers", files), "owner")
        return services.runtime.start(s, "await_answers", {}, TICKET, "intake").instance_id


def state(services: Any, instance_id: int) -> tuple[int, int, str]:
    """The instance's version, number of audit events and status."""
    with services.db.transaction(write=False) as s:
        instance = s.get(Instance, instance_id)
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == instance_id))
        return instance.version, events, instance.status


def post(client: Any, headers: dict[str, str], name: str, payload: dict[str, Any]) -> Any:
    return client.post("/api/v1/messages", json={"name": name, "correlation_key": TICKET, "payload": payload},
                       headers=headers)


def test_a_payload_that_breaks_the_contract_is_422_naming_the_field_and_changes_nothing(client, api_key, services,
                                                                                         waiting):
    # Given an instance waiting for the customer's answer and a key that speaks for the customer
    key = api_key(*CUSTOMER_APP)
    before = state(services, waiting)

    # When the answer's "accepted" is the string "no", or the payload is empty
    wrong = post(client, key, "quote_response", {"accepted": "no"})
    empty = post(client, key, "quote_response", {})

    # Then both are 422 naming the field, and the instance did not move
    for response in (wrong, empty):
        body = response.get_json()
        assert response.status_code == 422 and body["code"] == "validation_failed"
        assert [e["field"] for e in body["errors"]] == ["accepted"] and "quote_response" in body["message"]
    assert state(services, waiting) == before

    # When the answer is well-formed, it is delivered and the instance ends
    assert post(client, key, "quote_response", {"accepted": False}).get_json() == {"delivered_to": [waiting]}
    assert state(services, waiting)[2] == "completed"


@pytest.mark.parametrize(("name", "payload"), [
    ("quote_response", {"accepted": True}),
    ("customer_cancel", {"reason": "Bought a new one"}),
    ("sla_warning", WARNING),
])
@pytest.mark.parametrize("holder", ["warehouse key", "plain channel key"])
def test_warehouse_and_plain_channel_keys_are_403_for_customer_and_clock_messages(client, api_key, services, waiting,
                                                                                   name, payload, holder):
    # Given a key of the warehouse, or a channel key with nothing but the right to post messages
    key = api_key("messages:write", roles=("warehouse",)) if holder == "warehouse key" else api_key(*PLAIN_CHANNEL)
    before = state(services, waiting)

    # When it sends a message the contract keeps for the customer or the clock service
    response = post(client, key, name, payload)

    # Then it is refused as forbidden, naming the message, and the instance did not move
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    assert f"may not send message {name!r}" in response.get_json()["message"]
    assert state(services, waiting) == before


def test_a_key_that_speaks_for_the_customer_may_cancel_but_nobody_sends_sla_warnings_through_the_api(
        client, api_key, services, waiting):
    # Given a key with every scope and every staff role
    everything = api_key(roles=("agent", "supervisor", "admin", "warehouse"))

    # When it sends an SLA warning, it is refused: those come from the clock service only
    response = post(client, everything, "sla_warning", WARNING)
    assert response.status_code == 403 and "the system" in response.get_json()["message"]

    # Then a key speaking for the customer cancels the ticket
    assert post(client, api_key(*CUSTOMER_APP), "customer_cancel", {"reason": "Fixed it myself"}).status_code == 200
    assert state(services, waiting)[2] == "completed"


def session_post(browser: Any, name: str, payload: dict[str, Any]) -> Any:
    page = browser.client.get("/", follow_redirects=True).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return browser.client.post("/api/v1/messages", json={"name": name, "correlation_key": TICKET, "payload": payload},
                               headers={"X-CSRFToken": csrf})


def test_signed_in_staff_send_by_their_roles(signed_in, services, waiting):
    # Given a ticket waiting for the customer's answer, and staff signed in to the web
    before = state(services, waiting)

    # When a warehouse user posts the customer's acceptance, it is refused and nothing moves
    refused = session_post(signed_in("warehouse"), "quote_response", {"accepted": True})
    assert refused.status_code == 403
    assert "warehouse may not send message 'quote_response'" in refused.get_json()["message"]
    assert state(services, waiting) == before

    # Then an agent recording the customer's call is let through
    accepted = session_post(signed_in("agent"), "quote_response", {"accepted": True, "comment": "by phone"})
    assert accepted.get_json() == {"delivered_to": [waiting]} and state(services, waiting)[2] == "completed"


def test_the_openapi_document_points_to_the_message_contracts(client):
    # Given the API's own description, when it is read, then the message payload links its contract
    document = client.get("/api/v1/openapi.json").get_json()
    payload = document["components"]["schemas"]["Message"]["properties"]["payload"]
    assert "messages.json" in payload["description"] and "messages/<name>.schema.json" in payload["description"]
    responses = document["paths"]["/messages"]["post"]["responses"]
    assert {"403", "422"} <= set(responses)
