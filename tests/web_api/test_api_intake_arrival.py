"""Channel systems get the ticket number at arrival; a repeat contact reaches the open ticket's agents."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from engine.models import WorkItem
from handlers.ticketing import Ticket
from tests.process.driver import INTAKE
from tests.web_api.test_api_real_process import real  # noqa: F401 (the real bundle as the intake process)


def _chat_request(**changes):
    body = copy.deepcopy(INTAKE)
    body["fault"]["symptoms"] = ["error_code"]
    body.update({"channel": "chat", **changes})
    return body


def _ready(services, number):
    with services.db.transaction(write=False) as s:
        return sorted(w.element_id for w in s.scalars(select(WorkItem).where(WorkItem.business_key == number)))


@pytest.mark.usefixtures("real")
def test_a_chat_channel_key_gets_the_ticket_number_in_the_response(app, api_key, services):
    api = app.test_client()
    # When a chat system without an agent role sends a request
    key = api_key("service-requests:write", roles=())
    response = api.post("/api/v1/service-requests", json=_chat_request(), headers=key)

    # Then the response carries the ticket's number, and the ticket waits for an agent's triage
    assert response.status_code == 201
    number = response.get_json()["ticket_number"]
    assert number.startswith("AS-")
    assert _ready(services, number) == ["register_request"]
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(Ticket.channel).where(Ticket.number == number)).one() == "chat"


@pytest.mark.usefixtures("real")
def test_a_repeat_contact_over_the_api_reaches_the_open_tickets_agents(app, api_key, services):
    api = app.test_client()
    # Given an open ticket opened by the chat system
    key = api_key("service-requests:write", roles=())
    number = api.post("/api/v1/service-requests", json=_chat_request(), headers=key).get_json()["ticket_number"]

    # When the customer writes again about the same product through the e-mail channel
    again = api.post("/api/v1/service-requests", headers=key, json=_chat_request(
        channel="email", fault={"description": "Still no water drains, any news?", "symptoms": [],
                                "category": "hardware"}))

    # Then the API names the open ticket, and its agents have the contact to review
    assert again.status_code == 200
    assert (again.get_json()["ticket_number"], again.get_json()["duplicate"]) == (number, True)
    assert _ready(services, number) == ["register_request", "review_repeat_contact"]
    with services.db.transaction(write=False) as s:
        assert len(s.scalars(select(Ticket)).all()) == 1
