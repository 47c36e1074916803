"""Migrating running tickets from the owner's pages: pick, dry run with a verdict each, then move in bulk."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import store
from engine.audit import events_for
from engine.deploy import deploy
from engine.identity import Actor
from engine.models import AuditEvent, Instance, WorkItem
from tests.owner.run_support import simple_variant

AGENT = Actor("agent", frozenset({"agent"}))




@pytest.fixture
def at_review(services, users):
    """Three tickets waiting at review on v1: T-1 and T-2 took the small-amount way, T-3 ran 'mark_big'.

    v2 renames 'mark_big' (so T-3 cannot move to it) and the review task."""
    db, runtime = services.db, services.runtime
    with db.transaction() as s:
        v1 = deploy(s, simple_variant(), "owner").deployment_id
        ids = [runtime.start(s, "simple", {}, f"T-{n}", "agent").instance_id for n in (1, 2, 3)]
    for instance_id, amount in zip(ids, (5, 7, 500), strict=True):
        with db.transaction() as s:
            item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
            runtime.complete_task(s, item.task_id, AGENT, {"customer": "C", "amount": amount})
    with db.transaction() as s:
        v2 = deploy(s, simple_variant({"mark_big": "stamp_big", 'name="Review"': 'name="Review v2"'}),
                    "owner").deployment_id
    return v1, v2, ids


def json_post(client, url, body):
    return client.client.post(url, json=body, headers={"X-CSRFToken": client.token, "Accept": "application/json"})


def deployments(services, ids):
    with services.db.transaction(write=False) as s:
        return [s.get(Instance, i).deployment_id for i in ids]


def test_the_dry_run_gives_a_verdict_per_ticket_and_changes_nothing(services, signed_in, at_review):
    v1, v2, ids = at_review
    owner = signed_in("process_owner")
    owner.get("/owner/migrate")

    # When the owner dry-runs the three tickets to v2
    response = json_post(owner, "/owner/api/migrations/dry-run", {"instance_ids": ids, "to_deployment_id": v2})

    # Then two can move, the big one is refused naming the element v2 lacks, and nothing moved
    assert response.status_code == 200, response.get_data(as_text=True)
    verdicts = {v["instance_id"]: v for v in response.get_json()}
    assert [verdicts[i]["ok"] for i in ids] == [True, True, False]
    assert verdicts[ids[2]]["element_ids"] == ["mark_big"]
    assert "'mark_big'" in verdicts[ids[2]]["problems"][0]
    assert deployments(services, ids) == [v1, v1, v1]


def test_bulk_migration_moves_the_ok_tickets_and_leaves_the_refused_one_untouched(services, signed_in, at_review):
    v1, v2, ids = at_review
    owner = signed_in("process_owner")
    with services.db.transaction(write=False) as s:
        before = store.state_document(s, s.get(Instance, ids[2]))

    # Given the owner picked the tickets on the page and ran a dry run with the form
    page = owner.get("/owner/migrate?process_id=simple").get_data(as_text=True)
    assert all(f'data-instance="{i}"' in page for i in ids)
    dry = owner.post("/owner/api/migrations/dry-run", {"instance_ids": ids, "to_deployment_id": v2,
                                                       "process_id": "simple"}, follow_redirects=True)
    text = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "2 of 3 ticket(s) can move." in text and "<code>mark_big</code>" in text

    # When she migrates in bulk
    response = json_post(owner, "/owner/api/migrations", {"instance_ids": ids, "to_deployment_id": v2})

    # Then the two ok tickets run on v2, audited, and the refused one is exactly as it was on v1
    assert [v["moved"] for v in response.get_json()] == [True, True, False]
    assert deployments(services, ids) == [v2, v2, v1]
    with services.db.transaction(write=False) as s:
        assert store.state_document(s, s.get(Instance, ids[2])) == before
        assert "instance.migrated" in [e.kind for e in events_for(s, ids[0])]
        batch = s.scalars(select(AuditEvent).where(AuditEvent.kind == "instances.migrated")).one()
        assert batch.data["moved"] == ids[:2] and list(batch.data["refused"]) == [str(ids[2])]
        # And a migrated ticket waits in the new version's task, the unmigrated one in the old
        names = {i: s.scalars(select(WorkItem.name).where(WorkItem.instance_id == i)).one() for i in ids}
    assert names == {ids[0]: "Review v2", ids[1]: "Review v2", ids[2]: "Review"}


@pytest.mark.parametrize(("body", "field"), [
    ({"instance_ids": [], "to_deployment_id": 1}, "instance_ids"),
    ({"instance_ids": ["x"], "to_deployment_id": 1}, "instance_ids"),
    ({"instance_ids": [1]}, "to_deployment_id"),
    ({"instance_ids": [1], "to_deployment_id": 999}, "to_deployment_id"),
])
def test_a_malformed_migration_is_refused_naming_the_field(services, signed_in, at_review, body, field):
    v1, _, ids = at_review
    owner = signed_in("process_owner")
    owner.get("/owner/migrate")
    response = json_post(owner, "/owner/api/migrations", body)
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert response.get_json()["error"] == "invalid_input"
    assert deployments(services, ids) == [v1, v1, v1]


def test_picking_filters_by_element_and_version(services, signed_in, at_review):
    v1, v2, ids = at_review
    owner = signed_in("process_owner")
    picked = owner.client.get(f"/owner/api/instances?process_id=simple&deployment_id={v1}&element_id=review").get_json()
    assert [p["id"] for p in picked] == ids and picked[0]["waiting_at"] == ["review"]
    assert owner.client.get("/owner/api/instances?element_id=register").get_json() == []
    bad = owner.client.get("/owner/api/instances?older_than_days=soon", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "older_than_days"


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor"])
def test_other_roles_may_not_migrate(signed_in, at_review, role):
    _, v2, ids = at_review
    someone = signed_in(role)
    someone.get("/service/")
    assert someone.client.get("/owner/migrate").status_code == 403
    assert json_post(someone, "/owner/api/migrations", {"instance_ids": ids, "to_deployment_id": v2}).status_code == 403
