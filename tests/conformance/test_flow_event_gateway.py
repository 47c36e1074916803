"""Event-based gateways: every branch's event is armed (timer rows, message subscriptions), the
first event to arrive wins and the others are withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import DeploymentInvalid
from engine.identity import Actor
from engine.models import SignalSubscription, Timer
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
    assert flow.read(lambda s: s.scalars(select(Timer.name)).all()) == ["two_hours"]  # the branch, not "wait"
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


def test_a_signal_branch_wins_when_the_signal_is_broadcast_and_the_other_branches_are_withdrawn(flow):
    flow.deploy(definitions(process(
        "await_or_recall", event("startEvent", "start"), '<bpmn:eventBasedGateway id="wait" />',
        event("intermediateCatchEvent", "reply", message_def("reply")),
        event("intermediateCatchEvent", "recalled", '<bpmn:signalEventDefinition signalRef="sig_recall" />'),
        event("intermediateCatchEvent", "two_hours", timer("timeDuration", '"PT2H"')),
        user("handle_recall"), event("endEvent", "e1"), event("endEvent", "e2"), event("endEvent", "e3"),
        seq("start", "wait", "reply", "e1"), seq("wait", "recalled", "handle_recall", "e2"),
        seq("wait", "two_hours", "e3")),
        message("reply"), '<bpmn:signal id="sig_recall" name="product_recall" />'))
    run = flow.start("await_or_recall", {}, "T-10")
    signals = lambda: flow.read(lambda s: list(s.scalars(  # noqa: E731
        select(SignalSubscription.element_id).where(SignalSubscription.instance_id == run.id))))
    assert signals() == ["recalled"] and len(run.timers()) == 1 and len(run.subscriptions()) == 1
    quality = Actor("quality", frozenset({"supervisor"}))
    flow.trigger(lambda s: flow.runtime.signal(s, "product_recall", {}, quality))
    assert run.ready() == ["handle_recall"]
    assert signals() == [] and run.timers() == [] and run.subscriptions() == []


def test_an_instantiating_event_gateway_is_refused_at_deploy(flow):
    model = definitions(process(
        "instantiating", '<bpmn:eventBasedGateway id="wait" instantiate="true" eventGatewayType="Exclusive" />',
        event("intermediateCatchEvent", "t1", message_def("reply")), event("endEvent", "e1"), seq("wait", "t1", "e1"),
        event("startEvent", "start"), user("work"), event("endEvent", "e2"), seq("start", "work", "e2"),
    ), message("reply"))
    with pytest.raises(DeploymentInvalid) as info:
        flow.deploy(model)
    assert any("'wait'" in p.message or "instantiating event-based gateway" in p.message
               for p in info.value.problems), info.value.problems


def test_a_receive_task_branch_waits_like_a_message_catch_event(flow):
    flow.deploy(definitions(process(
        "await_receive", event("startEvent", "start"), '<bpmn:eventBasedGateway id="wait" />',
        '<bpmn:receiveTask id="receive_reply" name="receive_reply" messageRef="msg_reply" />',
        event("intermediateCatchEvent", "two_hours", timer("timeDuration", '"PT2H"')),
        user("handle_reply"), event("endEvent", "e1"), event("endEvent", "e2"),
        seq("start", "wait", "receive_reply", "handle_reply", "e1"), seq("wait", "two_hours", "e2")),
        message("reply")))
    run = flow.start("await_receive", {}, "T-12")
    assert run.subscriptions() == [("receive_reply", "reply")] and len(run.timers()) == 1
    run.message("reply")
    assert run.ready() == ["handle_reply"] and run.timers() == []
