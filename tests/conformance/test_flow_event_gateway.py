"""Event-based gateways: every branch's event is armed (timer rows, message subscriptions), the
first event to arrive wins and the others are withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import DeploymentInvalid
from tests.conformance.conftest import (
    condition_def,
    definitions,
    event,
    message,
    message_def,
    process,
    seq,
    timer,
    user,
)

GATEWAY = definitions(process(
    "await_reply",
    event("startEvent", "start"), user("ask"),
    '<bpmn:eventBasedGateway id="wait" name="wait" />',
    event("intermediateCatchEvent", "reply", message_def("reply", "reply_payload")),
    event("intermediateCatchEvent", "cancelled", message_def("cancel")),
    event("intermediateCatchEvent", "two_hours", timer("timeDuration", '"PT2H"')),
    user("handle_reply", "chase"), event("endEvent", "end_reply"), event("endEvent", "end_chase"),
    event("endEvent", "end_cancel"),
    seq("start", "ask", "wait", "reply", "handle_reply", "end_reply"),
    seq("wait", "two_hours", "chase", "end_chase"), seq("wait", "cancelled", "end_cancel"),
), message("reply"), message("cancel"))


def _waiting(flow):
    flow.deploy(GATEWAY)
    run = flow.start("await_reply", {}, "T-7")
    run.complete("ask")
    return run


def test_the_gateway_arms_a_timer_row_and_a_subscription_per_message_branch(flow, clock):
    run = _waiting(flow)
    assert run.timers() == [("two_hours", clock.now() + timedelta(hours=2))]
    assert [name for _, name in run.subscriptions()] == ["cancel", "reply"]
    assert run.instance.next_timer_at == clock.now() + timedelta(hours=2)
    assert run.ready() == [] and run.status == "active"


def test_a_message_first_wins_and_the_timer_is_withdrawn(flow):
    run = _waiting(flow)
    run.message("reply", {"answer": "yes"})
    assert run.ready() == ["handle_reply"]
    assert run.timers() == [] and run.subscriptions() == []
    assert run.data()["reply_payload"] == {"answer": "yes"}
    flow.advance(hours=3)  # the withdrawn timer must not fire later
    assert run.ready() == ["handle_reply"] and "two_hours" not in run.path()
    run.complete("handle_reply")
    assert run.status == "completed"
    assert run.path() == ["start", "ask", "wait", "reply", "handle_reply", "end_reply"]


def test_the_timer_first_wins_and_the_subscriptions_are_withdrawn(flow):
    run = _waiting(flow)
    flow.advance(hours=1)
    assert run.ready() == [] and len(run.subscriptions()) == 2
    stats = flow.advance(hours=1, seconds=1)
    assert stats.timers_fired == 1
    assert run.ready() == ["chase"]
    assert run.timers() == [] and run.subscriptions() == []
    assert flow.read(lambda s: None) is None
    run.complete("chase")
    assert run.status == "completed" and "reply" not in run.path()


def test_a_cycle_branch_fires_at_its_first_occurrence(flow, clock):
    flow.deploy(definitions(process(
        "cycle_gateway", event("startEvent", "start"), '<bpmn:eventBasedGateway id="wait" />',
        event("intermediateCatchEvent", "tick", timer("timeCycle", '"R5/PT1H"')),
        event("intermediateCatchEvent", "reply", message_def("reply")), user("chase"),
        event("endEvent", "e1"), event("endEvent", "e2"), seq("start", "wait", "tick", "chase", "e1"),
        seq("wait", "reply", "e2")), message("reply")))
    run = flow.start("cycle_gateway", {}, "T-8")
    assert run.timers() == [("tick", clock.now() + timedelta(hours=1))]
    flow.advance(hours=1, seconds=1)
    assert run.ready() == ["chase"] and run.timers() == [] and run.subscriptions() == []
    run.complete("chase")
    assert run.status == "completed"


def test_a_message_branch_leading_straight_to_an_end_finishes_the_instance(flow):
    run = _waiting(flow)
    run.message("cancel")
    assert run.status == "completed"
    assert run.timers() == [] and run.subscriptions() == [] and run.ready() == []


@pytest.mark.parametrize(("branches", "says"), [
    (event("intermediateCatchEvent", "t1", timer("timeDuration", '"PT1H"'))
     + event("intermediateCatchEvent", "t2", timer("timeDuration", '"PT2H"')), "one timer only"),
    (event("intermediateCatchEvent", "t1", condition_def("ready"))
     + event("intermediateCatchEvent", "t2", message_def("reply")), "conditional event"),
])
def test_branches_the_gateway_cannot_wait_for_are_refused_at_deploy(flow, branches, says):
    model = definitions(process(
        "bad_gateway", event("startEvent", "start"), '<bpmn:eventBasedGateway id="wait" />', branches,
        event("endEvent", "e1"), event("endEvent", "e2"), seq("start", "wait", "t1", "e1"), seq("wait", "t2", "e2"),
    ), message("reply"))
    with pytest.raises(DeploymentInvalid) as info:
        flow.deploy(model)
    assert any(says in p.message and p.element_id == "wait" for p in info.value.problems), info.value.problems
