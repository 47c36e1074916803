"""The API's request contract is the process's own: the OpenAPI ``ServiceRequest`` is generated
from the deployed registration form, follows a new deployment, and is enforced exactly — a
client that knows only the published document gets 201/200 for every body the document
allows and a 422 naming the field for anything else, never a 500."""

from __future__ import annotations

import copy
import json
import shutil
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import func, select

from engine.bundle import read_bundle
from engine.deploy import deploy
from engine.message_contracts import strict_schema
from engine.models import Instance
from engine.registry import load_handlers
from handlers.demo import DATA_DIR, load_catalogue
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE
from web.api.request_schemas import NUL_FREE, documented

REGISTRATION = "forms/register_request.schema.json"
RELAXED = settings(max_examples=15, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture
def real(app, services):
    """The real bundle deployed with the demo catalogue, as the API's intake process."""
    load_handlers()
    with services.db.transaction() as s:
        deploy(s, read_bundle([PROCESSES], name="processes"), "owner")
        load_catalogue(s, DATA_DIR)
    app.config.update(INTAKE_PROCESS="after_sales", INTAKE_FORM="register_request.schema.json")
    return app.test_client()


@pytest.fixture
def agent_key(api_key):
    return api_key("service-requests:write", "service-requests:read", "instances:read", roles=("agent",))


def published(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ServiceRequest"]


def instances(services) -> int:
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Instance))


def bodies(client) -> st.SearchStrategy[dict[str, Any]]:
    """Return service-request bodies generated from the published document alone (by schemathesis)."""
    document = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    [operation] = [r.ok() for r in document.get_all_operations()
                   if r.ok().path == "/service-requests" and r.ok().method.upper() == "POST"]
    return operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(lambda case: case.body)


def without_description(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("description", "$schema")}


def test_the_published_service_request_is_the_deployed_registration_form_closed_at_every_level(real):
    # Given the real bundle deployed, when the document is read
    schema = published(real)
    form = json.loads((PROCESSES / REGISTRATION).read_text(encoding="utf-8"))

    # Then ServiceRequest is that form, generated: the same fields, limits and choices ...
    assert without_description(schema) == without_description(documented(form))
    assert strict_schema(form)["properties"]["customer"]["required"] == schema["properties"]["customer"]["required"]
    assert "region" in schema["properties"]["customer"]["required"]
    assert "category" in schema["properties"]["fault"]["required"]
    assert schema["properties"]["fault"]["properties"]["description"]["maxLength"] == 2000
    # ... with every object closed, and the NUL rule the API enforces written down
    assert schema["additionalProperties"] is False
    for part in ("customer", "product", "fault"):
        assert schema["properties"][part]["additionalProperties"] is False
    assert schema["properties"]["customer"]["properties"]["name"]["pattern"] == NUL_FREE
    assert "register_request.schema.json" in schema["description"]


@pytest.mark.parametrize(("change", "field"), [
    ({"customer": {**INTAKE["customer"], "nickname": "Nana"}}, "customer.nickname"),
    ({"fault": {**INTAKE["fault"], "severity": "bad"}}, "fault.severity"),
    ({"product": {**INTAKE["product"], "colour": "white"}}, "product.colour"),
    ({"surprise": True}, "surprise"),
    ({"fault": {**INTAKE["fault"], "description": "x" * 2001}}, "fault.description"),
    ({"customer": {k: v for k, v in INTAKE["customer"].items() if k != "region"}}, "customer.region"),
    ({"fault": {"description": "Does not drain at all"}}, "fault.category"),
    ({"fault": {**INTAKE["fault"], "symptoms": ["no_display"]}}, "fault.symptoms.0"),
    ({"customer": {**INTAKE["customer"], "region": "west"}}, "customer.region"),
])
def test_a_service_request_off_the_contract_is_422_naming_the_field_path_and_opens_nothing(
        real, agent_key, services, change, field):
    # Given the real registration form as the contract
    before = instances(services)

    # When a channel sends a body with an unknown nested key, an over-long text, a missing or unknown value
    response = real.post("/api/v1/service-requests", json={**copy.deepcopy(INTAKE), **change}, headers=agent_key)

    # Then it is 422 naming exactly that field, and no instance was started
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "validation_failed"
    assert [e["field"] for e in body["errors"]] == [field], body
    assert instances(services) == before


def test_the_documented_body_opens_a_registered_ticket(real, agent_key):
    response = real.post("/api/v1/service-requests", json=INTAKE, headers=agent_key)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["registered"] is True


def test_an_unmasking_reason_longer_than_its_documented_500_characters_is_422(real, agent_key, api_key, services):
    # Given a ticket, and a supervisor's key that may unmask
    opened = real.post("/api/v1/service-requests", json=INTAKE, headers=agent_key).get_json()
    supervisor = api_key("instances:read", roles=("supervisor",))
    url = f"/api/v1/instances/{opened['instance_id']}/events?unmask=true&reason="
    doc = real.get("/api/v1/openapi.json").get_json()
    [reason] = [p for p in doc["paths"]["/instances/{instance_id}/events"]["get"]["parameters"]
                if p["name"] == "reason"]
    assert reason["schema"]["maxLength"] == 500

    # When the reason has 501 characters, then it is 422 naming it (and nothing is shown)
    refused = real.get(url + "x" * 501, headers=supervisor)
    assert refused.status_code == 422 and [e["field"] for e in refused.get_json()["errors"]] == ["reason"]
    # And at 500 characters it is accepted
    assert real.get(url + "x" * 500, headers=supervisor).status_code == 200


def test_the_document_follows_a_new_deployment_of_the_registration_form(real, app, agent_key, services, tmp_path):
    # Given the real bundle, where the west region is not a choice
    west = {**copy.deepcopy(INTAKE), "customer": {**INTAKE["customer"], "region": "west"},
            "product": {**INTAKE["product"], "serial_number": "WMF80-WEST"}}
    assert real.post("/api/v1/service-requests", json=west, headers=agent_key).status_code == 422

    # When a copy of the bundle whose registration form adds it is deployed
    bundle = tmp_path / "processes"
    shutil.copytree(PROCESSES, bundle)
    form = json.loads((bundle / REGISTRATION).read_text(encoding="utf-8"))
    form["properties"]["customer"]["properties"]["region"]["oneOf"].append({"const": "west", "title": "West"})
    (bundle / REGISTRATION).write_text(json.dumps(form), encoding="utf-8")
    with services.db.transaction() as s:
        deploy(s, read_bundle([bundle], name="processes"), "owner")

    # Then the published ServiceRequest is the new form, and the API accepts what it now documents
    schema = published(real)
    assert {"const": "west", "title": "West"} in schema["properties"]["customer"]["properties"]["region"]["oneOf"]
    assert without_description(schema) == without_description(documented(form))
    response = real.post("/api/v1/service-requests", json=west, headers=agent_key)
    assert response.status_code == 201, response.get_json()


def test_every_body_the_published_schema_allows_is_accepted_never_500(real, agent_key):
    # Given only the published document (as an outside client would read it)
    @given(body=bodies(real))
    @RELAXED
    def post(body):
        # When a body it allows is sent, then the ticket is opened (201) or the contact joins it (200)
        response = real.post("/api/v1/service-requests", json=body, headers=agent_key)
        assert response.status_code in (200, 201), (body, response.get_json())

    post()


def _objects(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Return the paths of every object in ``value`` (the body itself is ``()``)."""
    if not isinstance(value, dict):
        return []
    return [path] + [p for key, item in value.items() for p in _objects(item, (*path, key))]


def test_a_body_with_an_unknown_key_at_any_level_is_422_naming_it_never_500(real, agent_key, services):
    # Given bodies the published schema allows, each with one unknown key added at some object level
    before = instances(services)

    @given(body=bodies(real), data=st.data())
    @RELAXED
    def post(body, data):
        path = data.draw(st.sampled_from(_objects(body)))
        key = data.draw(st.sampled_from(["x_unknown", "notes", "Region", "tier2"]))
        target = body
        for part in path:
            target = target[part]
        target[key] = data.draw(st.one_of(st.none(), st.booleans(), st.text(max_size=5)))

        # When it is sent, then it is 422 naming that key's path, never a 500
        response = real.post("/api/v1/service-requests", json=body, headers=agent_key)
        assert response.status_code == 422, (body, response.get_json())
        assert ".".join((*path, key)) in [e["field"] for e in response.get_json()["errors"]]

    post()
    assert instances(services) == before
