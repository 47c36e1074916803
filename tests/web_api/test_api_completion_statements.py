"""An API completion asks the database little: the key, the trigger, the instance's next tasks.

Issue 16's target is at most 15 statements per API trigger, key lookup and follow-up listing
included. The count is behaviour (what the database is asked), not time.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from engine.apikeys import revoke_key
from engine.deploy import deploy
from engine.models import WorkItem
from tests.test_engine_persistence_log import loop_bundle

pytestmark = pytest.mark.postgresql  # the SQL counted here is the engine's, on both databases
TARGET = 15


@pytest.fixture
def client(app):
    """A test client of the app (API calls carry their key)."""
    return app.test_client()


@pytest.fixture
def looping(services):
    """Deploy the loop (one agent task, a script, a gateway, round again) and start one instance."""
    with services.db.transaction() as s:
        deploy(s, loop_bundle(), "owner")
        return services.runtime.start(s, "looping", {}, None, "ann").instance_id


def waiting_task(services, instance_id: int) -> str:
    """Return the task the loop waits at."""
    with services.db.transaction(write=False) as s:
        return s.scalars(select(WorkItem.task_id).where(WorkItem.instance_id == instance_id)).one()


def test_an_api_completion_takes_at_most_15_statements_with_key_and_next_tasks(client, services, api_key,
                                                                              looping):
    # Given an agent's key that has been used this minute (its last use is written once a minute)
    agent = api_key("tasks:read", "tasks:write", roles=("agent",))
    first = client.post(f"/api/v1/tasks/{waiting_task(services, looping)}/complete", json={"data": {}},
                        headers=agent)
    assert first.status_code == 200
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    # When it completes the loop's next task
    task_id = waiting_task(services, looping)
    event.listen(services.db.engine, "before_cursor_execute", seen)
    try:
        done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}, headers=agent)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", seen)
    # Then the answer names the task waiting next, and the whole request took few statements
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["instance_id"], body["status"]) == (looping, "active")
    assert [t["name"] for t in body["next_tasks"]] == ["Step"]
    assert body["next_tasks"][0]["task_id"] == waiting_task(services, looping) != task_id
    assert len(statements) <= TARGET, "\n".join(s.split("\n")[0][:80] for s in statements)
    # And no statement reads a deployment: the completion body's schema does not depend on one
    assert not [s for s in statements if re.search(r"\bFROM (deployment|process_definition)\b", s)]


def test_a_key_revoked_between_two_completions_stops_at_once(client, services, api_key, looping):
    # Given a key that just completed a task
    agent = api_key("tasks:read", "tasks:write", roles=("agent",))
    assert client.post(f"/api/v1/tasks/{waiting_task(services, looping)}/complete", json={"data": {}},
                       headers=agent).status_code == 200
    # When an admin revokes it
    with services.db.transaction() as s:
        revoke_key(s, "integration-0")
    # Then its very next completion is refused and the task still waits
    task_id = waiting_task(services, looping)
    refused = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}, headers=agent)
    assert refused.status_code == 401 and refused.get_json()["code"] == "unauthenticated"
    assert waiting_task(services, looping) == task_id


def test_every_fixed_request_schema_is_the_one_the_document_publishes(app, client, intake):
    from web.api import openapi

    # Given the deployed intake process (the document's ServiceRequest and Message follow it)
    with app.test_request_context():
        document = openapi.document()["components"]["schemas"]
        # Then each schema checked without a look at the deployment is the document's own
        for name, published in document.items():
            checked = openapi.schema(name)
            assert {k: v for k, v in checked.items() if k not in ("$defs", "components")} == published, name
