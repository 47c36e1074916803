"""Link events: a throw continues at the catch of the same name in the same process or subprocess."""

from __future__ import annotations

import pytest

from engine.errors import DeploymentInvalid
from tests.conformance.conftest import cond, event, process, seq, user

LINK = '<bpmn:linkEventDefinition name="{}" />'

LINKS = process(
    "links",
    event("startEvent", "start"),
    '<bpmn:exclusiveGateway id="which" default="f_which_go_to_b" />',
    event("intermediateThrowEvent", "go_to_a", LINK.format("to_a")),
    event("intermediateThrowEvent", "go_to_b", LINK.format("to_b")),
    event("intermediateCatchEvent", "land_a", LINK.format("to_a")),
    event("intermediateCatchEvent", "land_b", LINK.format("to_b")),
    user("task_a", "task_b"), event("endEvent", "end"), event("endEvent", "end_b"),
    seq("start", "which"), cond("which", "go_to_a", 'route == "a"'), seq("which", "go_to_b"),
    seq("land_a", "task_a", "end"), seq("land_b", "task_b", "end_b"),
)

LOOP = process(
    "link_loop",
    event("startEvent", "start"), event("intermediateCatchEvent", "again", LINK.format("again")),
    '<bpmn:exclusiveGateway id="merge" />', user("attempt"),
    '<bpmn:exclusiveGateway id="ok" default="f_ok_end" />',
    event("intermediateThrowEvent", "retry", LINK.format("again")), event("endEvent", "end"),
    seq("start", "merge", "attempt", "ok", "end"), seq("again", "merge"), cond("ok", "retry", "not success"),
)

IN_SUBPROCESS = process(
    "link_in_sub",
    event("startEvent", "start"),
    '<bpmn:subProcess id="sub" name="sub">'
    + event("startEvent", "sub_start") + event("intermediateThrowEvent", "jump", LINK.format("far"))
    + event("intermediateCatchEvent", "land", LINK.format("far")) + user("inside") + event("endEvent", "sub_end")
    + seq("sub_start", "jump") + seq("land", "inside", "sub_end") + '</bpmn:subProcess>',
    user("after"), event("endEvent", "end"), seq("start", "sub", "after", "end"),
)


def test_a_link_throw_continues_at_the_catch_of_the_same_name(flow):
    flow.deploy(LINKS)
    to_a = flow.start("links", {"route": "a"})
    to_b = flow.start("links", {"route": "b"})
    assert (to_a.ready(), to_b.ready()) == (["task_a"], ["task_b"])
    assert to_a.timers() == [] and to_a.subscriptions() == []
    to_a.complete("task_a")
    assert to_a.status == "completed"
    assert to_a.path() == ["start", "which", "go_to_a", "land_a", "task_a", "end"]


def test_a_link_loops_back_until_the_work_succeeds(flow):
    flow.deploy(LOOP)
    run = flow.start("link_loop")
    run.complete("attempt", {"success": False})
    assert run.ready() == ["attempt"] and run.status == "active"
    run.complete("attempt", {"success": False})
    run.complete("attempt", {"success": True})
    assert run.status == "completed"
    assert run.path().count("attempt") == 3 and run.path().count("again") == 2


def test_a_link_inside_an_embedded_subprocess_stays_inside_it(flow):
    flow.deploy(IN_SUBPROCESS)
    run = flow.start("link_in_sub")
    assert run.ready() == ["inside"]
    run.complete("inside")
    run.complete("after")
    assert run.status == "completed"


@pytest.mark.parametrize(("catches", "says"), [
    ("", "no intermediate catch events"),
    (event("intermediateCatchEvent", "c1", LINK.format("x")) + event("intermediateCatchEvent", "c2", LINK.format("x")),
     "2 intermediate catch events"),
])
def test_a_link_without_exactly_one_catch_is_refused_at_deploy(flow, catches, says):
    model = process("bad_link", event("startEvent", "start"), event("intermediateThrowEvent", "jump", LINK.format("x")),
                    catches, user("t"), event("endEvent", "end"), seq("start", "jump"))
    with pytest.raises(DeploymentInvalid) as info:
        flow.deploy(model)
    [problem] = [p for p in info.value.problems if p.element_id == "jump"]
    assert says in problem.message and "'x'" in problem.message and problem.file == "conformance.bpmn"
