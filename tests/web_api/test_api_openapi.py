"""The OpenAPI document matches the implementation: every route is documented, and
schemathesis sends generated valid and invalid requests to each operation — responses
must conform to the document and none may be a server error."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.web_api.conftest import REQUEST


def _documented(app) -> set[tuple[str, str]]:
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    return {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}


def test_every_api_route_is_in_the_openapi_document_and_nothing_else(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi_document":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == _documented(app)


def test_every_operation_names_its_scope_and_its_error_bodies(app):
    from engine.apikeys import SCOPES

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["x-scope"] in SCOPES, (path, method)
            for status in ("400", "401", "403"):
                assert op["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}


@pytest.fixture
def world(app, intake, api_key, order_instance):
    """An app with an open ticket, a ready task and an order instance; a key with every scope."""
    headers = api_key(roles=("agent", "supervisor"))
    client = app.test_client()
    assert client.post("/api/v1/service-requests", json=REQUEST, headers=headers).status_code == 201
    return headers


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_generated_requests_to_every_operation_conform_and_never_fail_with_500(app, world, mode):
    schema = schemathesis.openapi.from_dict(app.test_client().get("/api/v1/openapi.json").get_json())
    checked: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call(app=app, headers=world)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
            # we always send a valid key; schema-valid bodies may still be refused for their content
            # (a file that is no BPMN, a message nobody waits for) with a documented 4xx
            case.validate_response(response, excluded_checks=[ignored_auth, positive_data_acceptance])
            checked.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)

        run()
    assert len(checked) == len(_documented(app))
    statuses = set().union(*checked.values())
    if mode == GenerationMode.NEGATIVE:
        assert statuses & {400, 422}, checked
    else:
        assert statuses & {200, 201}, checked
