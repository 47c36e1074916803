"""Pilots and roll back: which version new tickets start on, decided in one place and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401
from engine.audit import events_for
from engine.deploy import deploy
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import AuditEvent, Instance
from engine.pilots import PilotStart, end_pilot, set_current, start_pilot
from tests.owner.run_support import renamed_review


@pytest.fixture
def two_versions(database):
    with database.transaction() as s:
        v1 = deploy(s, renamed_review("Review"), "owner").deployment_id
        v2 = deploy(s, renamed_review("Review v2"), "owner").deployment_id
    with database.transaction() as s:
        set_current(s, "simple", v1, "owner")  # v1 is what everyone gets; v2 waits for its pilot
    return v1, v2


def start(database, runtime, data=None, key=None) -> int:
    with database.transaction() as s:
        return runtime.start(s, "simple", data or {}, key, "intake").instance_id


def deployment_of(database, instance_id: int) -> int:
    with database.transaction(write=False) as s:
        return s.get(Instance, instance_id).deployment_id


def test_a_share_pilot_starts_exactly_that_share_of_new_tickets_on_the_new_version(database, runtime, two_versions):
    v1, v2 = two_versions
    # Given a pilot of v2 for 30 % of new tickets
    with database.transaction() as s:
        pilot_id = start_pilot(s, "simple", v2, "owner", share=30).id

    # When 20 tickets start
    started = [start(database, runtime, key=f"P-{n}") for n in range(20)]

    # Then exactly 6 run on v2, the rest on v1, and each decision is recorded and audited
    versions = [deployment_of(database, i) for i in started]
    assert versions.count(v2) == 6 and versions.count(v1) == 14
    with database.transaction(write=False) as s:
        rows = {r.instance_id: r for r in s.scalars(select(PilotStart))}
        assert {i: rows[i].on_pilot for i in started} == {i: v == v2 for i, v in zip(started, versions, strict=True)}
        created = [e for e in events_for(s, started[3]) if e.kind == "instance.created"][0]
        assert created.data["pilot"] == {"pilot_id": pilot_id, "on_pilot": rows[started[3]].on_pilot}


def test_a_channel_pilot_takes_only_that_channel(database, runtime, two_versions):
    v1, v2 = two_versions
    with database.transaction() as s:
        start_pilot(s, "simple", v2, "owner", channel="web")
    web = start(database, runtime, {"channel": "web"})
    hotline = start(database, runtime, {"channel": "hotline"})
    assert deployment_of(database, web) == v2 and deployment_of(database, hotline) == v1
    with database.transaction(write=False) as s:
        assert s.get(PilotStart, hotline) is None  # not part of the pilot's population


def test_a_region_and_product_line_pilot_matches_the_customer_and_the_model(database, runtime, two_versions):
    v1, v2 = two_versions
    with database.transaction() as s:
        start_pilot(s, "simple", v2, "owner", region="east", product_line="tv", models=["TV-55U8"])
    match = start(database, runtime, {"customer": {"region": "east"}, "product": {"model": "TV-55U8"}})
    other_region = start(database, runtime, {"customer": {"region": "north"}, "product": {"model": "TV-55U8"}})
    other_line = start(database, runtime, {"customer": {"region": "east"}, "product": {"model": "WM-F80"}})
    assert [deployment_of(database, i) for i in (match, other_region, other_line)] == [v2, v1, v1]


def test_promoting_a_pilot_makes_its_version_current_for_everyone(database, runtime, two_versions):
    v1, v2 = two_versions
    with database.transaction() as s:
        pilot_id = start_pilot(s, "simple", v2, "owner", channel="web").id
    with database.transaction() as s:
        assert end_pilot(s, pilot_id, "owner", promote=True).status == "promoted"
    assert deployment_of(database, start(database, runtime, {"channel": "hotline"})) == v2
    with database.transaction(write=False) as s:
        kinds = list(s.scalars(select(AuditEvent.kind).where(AuditEvent.stream == "deployments")))
    assert "pilot.promoted" in kinds and "deployment.made_current" in kinds


def test_stopping_a_pilot_sends_every_new_ticket_to_the_current_version(database, runtime, two_versions):
    v1, v2 = two_versions
    with database.transaction() as s:
        pilot_id = start_pilot(s, "simple", v2, "owner", share=100).id
    assert deployment_of(database, start(database, runtime)) == v2
    with database.transaction() as s:
        end_pilot(s, pilot_id, "owner", promote=False)
    assert deployment_of(database, start(database, runtime)) == v1
    with database.transaction() as s, pytest.raises(Conflict, match="has ended already"):
        end_pilot(s, pilot_id, "owner", promote=False)


def test_rolling_back_makes_an_earlier_version_the_one_new_tickets_start_on(database, runtime, two_versions):
    v1, v2 = two_versions
    with database.transaction() as s:
        set_current(s, "simple", v2, "owner")
    running = start(database, runtime)
    assert deployment_of(database, running) == v2
    # When the owner rolls back to v1
    with database.transaction() as s:
        set_current(s, "simple", v1, "owner")
    # Then new tickets start on v1 while the running one stays on v2
    assert deployment_of(database, start(database, runtime)) == v1
    assert deployment_of(database, running) == v2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"share": 0}, "share is a whole percentage"),
    ({"share": 101}, "share is a whole percentage"),
    ({"channel": "x" * 40}, "channel is a code"),
])
def test_a_bad_pilot_is_refused_and_changes_nothing(database, runtime, two_versions, kwargs, message):
    _, v2 = two_versions
    with database.transaction() as s, pytest.raises(InvalidInput, match=message):
        start_pilot(s, "simple", v2, "owner", **kwargs)
    with database.transaction(write=False) as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.kind == "pilot.started")).first() is None


def test_a_pilot_of_the_current_version_or_a_second_pilot_is_refused(database, two_versions):
    v1, v2 = two_versions
    with database.transaction() as s, pytest.raises(InvalidInput, match="already the current version"):
        start_pilot(s, "simple", v1, "owner")
    with database.transaction() as s:
        start_pilot(s, "simple", v2, "owner", share=50)
    with database.transaction() as s, pytest.raises(Conflict, match="is running; stop or promote it first"):
        start_pilot(s, "simple", v2, "owner", share=10)


def test_rolling_back_to_a_version_without_the_process_is_refused(database, two_versions, deploy_fixture):
    other = deploy_fixture("order").deployment_id
    with database.transaction() as s, pytest.raises(NotFound, match=f"deployment {other} has no process 'simple'"):
        set_current(s, "simple", other, "owner")
