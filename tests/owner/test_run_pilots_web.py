"""Pilots and roll back from the owner's pages and JSON API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.deploy import deploy
from engine.models import Instance
from engine.pilots import Pilot, set_current
from tests.owner.run_support import renamed_review


@pytest.fixture
def versions(services):
    with services.db.transaction() as s:
        v1 = deploy(s, renamed_review("Review"), "owner").deployment_id
        v2 = deploy(s, renamed_review("Review v2"), "owner").deployment_id
    with services.db.transaction() as s:
        set_current(s, "simple", v1, "owner")
    return v1, v2


def json_post(client, url, body=None):
    return client.client.post(url, json=body or {}, headers={"X-CSRFToken": client.token, "Accept": "application/json"})


def start(services, data=None):
    with services.db.transaction() as s:
        instance_id = services.runtime.start(s, "simple", data or {}, None, "intake").instance_id
        return s.get(Instance, instance_id).deployment_id


def test_a_pilot_started_with_the_form_routes_one_channel_and_is_promoted(services, signed_in, versions):
    v1, v2 = versions
    owner = signed_in("process_owner")
    page = owner.get("/owner/pilots").get_data(as_text=True)
    assert f'data-deployment="{v1}"' in page and "Start a pilot" in page

    # When the owner starts a pilot of v2 for the web channel with the page's form
    response = owner.post("/owner/api/pilots", {"process_id": "simple", "deployment_id": str(v2), "share": "100",
                                                "channel": "web"})
    assert response.status_code == 302
    page = owner.get("/owner/pilots").get_data(as_text=True)
    assert 'data-status="active"' in page and "Promote to everyone" in page

    # Then web tickets start on v2, hotline tickets on v1
    assert start(services, {"channel": "web"}) == v2 and start(services, {"channel": "hotline"}) == v1
    with services.db.transaction(write=False) as s:
        pilot_id = s.scalars(select(Pilot.id)).one()
    figures = owner.client.get(f"/owner/api/pilots/{pilot_id}/figures").get_json()
    assert figures["pilot"]["matched"] == 1 and set(figures) == {"pilot", "current", "pilot_version"}

    # When she promotes it, every new ticket starts on v2
    promoted = json_post(owner, f"/owner/api/pilots/{pilot_id}/promote")
    assert promoted.status_code == 200 and promoted.get_json()["status"] == "promoted"
    assert start(services, {"channel": "hotline"}) == v2


def test_a_pilot_is_stopped_through_the_api(services, signed_in, versions):
    v1, v2 = versions
    owner = signed_in("process_owner")
    owner.get("/owner/pilots")
    created = json_post(owner, "/owner/api/pilots", {"process_id": "simple", "deployment_id": v2, "share": 50})
    assert created.status_code == 200 and created.get_json()["share"] == 50
    assert [p["id"] for p in owner.client.get("/owner/api/pilots").get_json()] == [created.get_json()["id"]]
    stopped = json_post(owner, f"/owner/api/pilots/{created.get_json()['id']}/stop")
    assert stopped.get_json()["status"] == "stopped"
    assert {start(services) for _ in range(3)} == {v1}


def test_rolling_back_from_the_page(services, signed_in, versions):
    v1, v2 = versions
    owner = signed_in("process_owner")
    owner.get("/owner/pilots")
    made = json_post(owner, "/owner/api/processes/simple/current", {"deployment_id": v2})
    assert made.get_json() == {"process_id": "simple", "deployment_id": v2, "version": 2}
    assert start(services) == v2
    # When the owner rolls back to v1 with the page's button
    response = owner.post("/owner/api/processes/simple/current", {"deployment_id": str(v1)})
    assert response.status_code == 302
    assert start(services) == v1


@pytest.mark.parametrize(("body", "field"), [
    ({"deployment_id": 2, "share": 0}, "share"),
    ({"deployment_id": 2, "share": "half"}, "share"),
    ({"deployment_id": "two"}, "deployment_id"),
    ({"deployment_id": 2, "product_line": "spaceships"}, "product_line"),
    ({}, "process_id"),
])
def test_a_bad_pilot_is_refused_naming_the_field(services, signed_in, versions, body, field):
    owner = signed_in("process_owner")
    owner.get("/owner/pilots")
    response = json_post(owner, "/owner/api/pilots", {"process_id": "simple", **body} if body else {})
    assert response.status_code == 400 and response.get_json()["field"] == field
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(Pilot)).first() is None


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor"])
def test_other_roles_may_not_pilot_or_roll_back(signed_in, versions, role):
    _, v2 = versions
    someone = signed_in(role)
    someone.get("/service/")
    assert someone.client.get("/owner/pilots").status_code == 403
    assert json_post(someone, "/owner/api/pilots", {"process_id": "simple", "deployment_id": v2}).status_code == 403
    assert json_post(someone, "/owner/api/processes/simple/current", {"deployment_id": v2}).status_code == 403


def test_a_bad_pilot_posted_with_the_form_gets_a_page_naming_the_problem(services, signed_in, versions):
    _, v2 = versions
    owner = signed_in("process_owner")
    owner.get("/owner/pilots")
    response = owner.post("/owner/api/pilots", {"process_id": "simple", "deployment_id": str(v2), "share": "0"},
                          headers={"Accept": "text/html"})
    assert response.status_code == 400 and "share is a whole percentage" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
