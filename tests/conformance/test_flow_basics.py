"""Plain flow elements through deploy, reloads and both databases: gateways, subprocesses, call
activities, multi-instance, loops, error boundaries and the task kinds."""

from __future__ import annotations

from pathlib import Path

import tests.handlers_for_tests  # noqa: F401  (registers test.* handlers)
from tests.conformance.conftest import (
    ANY_FORM,
    cond,
    definitions,
    event,
    message,
    message_def,
    process,
    script,
    seq,
    user,
)

DMN = (Path(__file__).parents[1] / "fixtures" / "order" / "shipping_method.dmn").read_bytes()


def _split_join(kind: str, default: str = "") -> str:
    attr = f' default="{default}"' if default else ""
    return process(
        f"{kind}_flow", event("startEvent", "start"), f'<bpmn:{kind} id="split"{attr} />', user("a", "b", "c"),
        f'<bpmn:{kind} id="join" />', user("after"), event("endEvent", "end"),
        cond("split", "a", "x > 1") if kind != "parallelGateway" else seq("split", "a"),
        cond("split", "b", "x > 2") if kind != "parallelGateway" else seq("split", "b"),
        seq("start", "split", "c"), seq("a", "join"), seq("b", "join"), seq("c", "join"), seq("join", "after", "end"))


def test_an_exclusive_gateway_takes_the_first_flow_whose_condition_holds_else_the_default(flow):
    flow.deploy(_split_join("exclusiveGateway", default="f_split_c"))
    assert flow.start("exclusiveGateway_flow", {"x": 3}).ready() == ["a"]
    run = flow.start("exclusiveGateway_flow", {"x": 0})
    assert run.ready() == ["c"]
    run.complete("c").complete("after")
    assert run.status == "completed"


def test_an_inclusive_gateway_takes_every_flow_whose_condition_holds_and_joins_them(flow):
    flow.deploy(_split_join("inclusiveGateway", default="f_split_c"))
    run = flow.start("inclusiveGateway_flow", {"x": 3})
    assert run.ready() == ["a", "b"]
    run.complete("a")
    assert run.ready() == ["b"]
    run.complete("b")
    assert run.ready() == ["after"]
    assert flow.start("inclusiveGateway_flow", {"x": 0}).ready() == ["c"]


def test_a_parallel_gateway_runs_every_branch_and_waits_for_all(flow):
    flow.deploy(_split_join("parallelGateway"))
    run = flow.start("parallelGateway_flow")
    assert run.ready() == ["a", "b", "c"]
    run.complete("b", {"from_b": 1}).complete("a", {"from_a": 1})
    assert run.ready() == ["c"]
    run.complete("c", {"from_c": 1})
    assert run.ready() == ["after"]
    assert {"from_a", "from_b", "from_c"} <= set(run.data())


def test_an_embedded_subprocess_runs_its_flow_with_the_process_data(flow):
    flow.deploy(process(
        "embedded", event("startEvent", "start"),
        '<bpmn:subProcess id="stage" name="stage">' + event("startEvent", "s_start") + user("inside")
        + script("double", "y = x * 2") + event("endEvent", "s_end") + seq("s_start", "inside", "double", "s_end")
        + "</bpmn:subProcess>",
        user("after"), event("endEvent", "end"), seq("start", "stage", "after", "end")))
    run = flow.start("embedded", {"x": 21})
    run.complete("inside")
    assert run.ready() == ["after"] and run.data()["y"] == 42


def test_a_call_activity_runs_the_called_process_and_returns_its_data(flow):
    flow.deploy(definitions(
        process("caller", event("startEvent", "start"), '<bpmn:callActivity id="call" calledElement="callee" />',
                user("after"), event("endEvent", "end"), seq("start", "call", "after", "end")),
        process("callee", event("startEvent", "c_start"), user("called_task"), script("answer", "z = x + 1"),
                event("endEvent", "c_end"), seq("c_start", "called_task", "answer", "c_end"))))
    run = flow.start("caller", {"x": 1})
    assert run.ready() == ["called_task"]
    run.complete("called_task")
    assert run.ready() == ["after"] and run.data()["z"] == 2
    run.complete("after")
    assert run.status == "completed"


MI = ('<bpmn:multiInstanceLoopCharacteristics isSequential="{seq}">'
      '<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef><bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>'
      '<bpmn:inputDataItem id="item" name="item" /><bpmn:outputDataItem id="result" name="result" />'
      '</bpmn:multiInstanceLoopCharacteristics>')


def test_a_multi_instance_script_runs_once_per_item_and_collects_the_results(flow):
    flow.deploy(process(
        "mi_script", event("startEvent", "start"),
        f'<bpmn:scriptTask id="each" name="each">{MI.format(seq="false")}<bpmn:script>result = item * 2</bpmn:script>'
        '</bpmn:scriptTask>', user("after"), event("endEvent", "end"), seq("start", "each", "after", "end")))
    run = flow.start("mi_script", {"items": [1, 2, 3]})
    assert run.ready() == ["after"] and run.data()["results"] == [2, 4, 6]


def test_a_parallel_multi_instance_user_task_offers_one_work_item_per_item(flow):
    flow.deploy(process(
        "mi_user", event("startEvent", "start"),
        f'<bpmn:userTask id="each" name="each">{ANY_FORM}{MI.format(seq="false")}</bpmn:userTask>',
        user("after"), event("endEvent", "end"), seq("start", "each", "after", "end")))
    run = flow.start("mi_user", {"items": ["a", "b", "c"]})
    items = run.work_items()
    assert [w.element_id for w in items] == ["each [child]"] * 3  # SpiffWorkflow's name of the instances
    for item in items:
        flow.trigger(lambda s, i=item: flow.runtime.complete_task(s, i.task_id, flow.actor, {"result": "ok"}))
    assert run.ready() == ["after"] and run.data()["results"] == ["ok", "ok", "ok"]


def test_a_sequential_multi_instance_user_task_offers_one_item_at_a_time(flow):
    flow.deploy(process(
        "mi_seq", event("startEvent", "start"),
        f'<bpmn:userTask id="each" name="each">{ANY_FORM}{MI.format(seq="true")}</bpmn:userTask>',
        user("after"), event("endEvent", "end"), seq("start", "each", "after", "end")))
    run = flow.start("mi_seq", {"items": [1, 2]})
    assert run.ready() == ["each [child]"]
    run.complete("each [child]", {"result": 10})
    assert run.ready() == ["each [child]"]
    run.complete("each [child]", {"result": 20})
    assert run.ready() == ["after"] and run.data()["results"] == [10, 20]


def test_a_standard_loop_repeats_while_its_condition_holds(flow):
    flow.deploy(process(
        "looped", event("startEvent", "start"),
        '<bpmn:scriptTask id="count" name="count"><bpmn:standardLoopCharacteristics>'
        '<bpmn:loopCondition>n &lt; 3</bpmn:loopCondition></bpmn:standardLoopCharacteristics>'
        '<bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>',
        user("after"), event("endEvent", "end"), seq("start", "count", "after", "end")))
    run = flow.start("looped", {"n": 0})
    assert run.ready() == ["after"] and run.data()["n"] == 3


ERROR = ('<bpmn:error id="err_stock" name="Out of stock" errorCode="OUT_OF_STOCK"><bpmn:extensionElements>'
         '<spiffworkflow:variableName>error_info</spiffworkflow:variableName></bpmn:extensionElements></bpmn:error>')


def _end_caught_by_boundary(process_id: str, definition: str, *roots: str) -> str:
    """start → subprocess (a task, then an end event throwing ``definition``) → normal → end, with an
    interrupting boundary catching ``definition`` on the subprocess → handle → end_caught."""
    return definitions(process(
        process_id, event("startEvent", "start"),
        '<bpmn:subProcess id="stage" name="stage">' + event("startEvent", "s_start") + user("inside")
        + event("endEvent", "throw_end", definition) + seq("s_start", "inside", "throw_end") + "</bpmn:subProcess>",
        event("boundaryEvent", "caught", definition, attachedToRef="stage"),
        user("normal", "handle"), event("endEvent", "end"), event("endEvent", "end_caught"),
        seq("start", "stage", "normal", "end"), seq("caught", "handle", "end_caught")), *roots)


def test_an_error_end_event_in_a_subprocess_is_caught_by_the_error_boundary_on_it(flow):
    flow.deploy(_end_caught_by_boundary("erring", '<bpmn:errorEventDefinition errorRef="err_stock" />', ERROR))
    run = flow.start("erring")
    run.complete("inside")
    assert run.ready() == ["handle"] and run.incidents() == []
    run.complete("handle")
    assert run.status == "completed" and "normal" not in run.path()


def test_a_business_error_of_a_service_task_takes_the_error_boundary(flow):
    service = ('<bpmn:serviceTask id="call" name="call"><bpmn:extensionElements>'
               '<spiffworkflow:serviceTaskOperator id="test.business" resultVariable="out">'
               '<spiffworkflow:parameters><spiffworkflow:parameter id="code" type="str" value="\'OUT_OF_STOCK\'" />'
               '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
               '</bpmn:serviceTask>')
    flow.deploy(definitions(process(
        "serviced", event("startEvent", "start"), service,
        event("boundaryEvent", "caught", '<bpmn:errorEventDefinition errorRef="err_stock" />', attachedToRef="call"),
        user("normal", "handle_error"), event("endEvent", "end"), event("endEvent", "end_error"),
        seq("start", "call", "normal", "end"), seq("caught", "handle_error", "end_error")), ERROR))
    run = flow.start("serviced")
    assert run.ready() == ["handle_error"] and run.incidents() == []
    assert run.data()["error_info"]["code"] == "OUT_OF_STOCK"


def test_user_manual_and_none_tasks_wait_for_a_person_and_scripts_run_by_themselves(flow):
    flow.deploy(process(
        "tasks", event("startEvent", "start"), script("prepare", "greeting = 'hello'"), user("fill_in"),
        '<bpmn:manualTask id="by_hand" name="by_hand" />', '<bpmn:task id="plain" name="plain" />',
        event("endEvent", "end"), seq("start", "prepare", "fill_in", "by_hand", "plain", "end")))
    run = flow.start("tasks")
    assert run.ready() == ["fill_in"] and run.data()["greeting"] == "hello"
    run.complete("fill_in", {"answer": 42})
    assert run.ready() == ["by_hand"]
    run.complete("by_hand")
    assert run.ready() == ["plain"]
    run.complete("plain")
    assert run.status == "completed" and run.data()["answer"] == 42


def test_a_business_rule_task_takes_its_decision_from_the_dmn_table(flow):
    rule = ('<bpmn:businessRuleTask id="decide" name="decide"><bpmn:extensionElements>'
            '<spiffworkflow:calledDecisionId>shipping_method</spiffworkflow:calledDecisionId>'
            '</bpmn:extensionElements></bpmn:businessRuleTask>')
    flow.deploy(process("ruled", event("startEvent", "start"), rule, user("after"), event("endEvent", "end"),
                        seq("start", "decide", "after", "end")), files={"shipping.dmn": DMN})
    heavy = flow.start("ruled", {"weight_class": "heavy", "express": True})
    express = flow.start("ruled", {"weight_class": "light", "express": True})
    assert (heavy.data()["shipping"], express.data()["shipping"]) == ("freight", "courier")


ESCALATION = '<bpmn:escalation id="esc_late" name="Late" escalationCode="late" />'


def test_an_escalation_thrown_in_a_subprocess_is_caught_by_the_boundary_on_it(flow):
    flow.deploy(definitions(process(
        "escalating", event("startEvent", "start"),
        '<bpmn:subProcess id="stage" name="stage">' + event("startEvent", "s_start")
        + event("intermediateThrowEvent", "tell", '<bpmn:escalationEventDefinition escalationRef="esc_late" />')
        + user("inside") + event("endEvent", "s_end") + seq("s_start", "tell", "inside", "s_end")
        + "</bpmn:subProcess>",
        event("boundaryEvent", "noted", '<bpmn:escalationEventDefinition escalationRef="esc_late" />',
              attachedToRef="stage", cancelActivity="false"),
        user("after", "inform_supervisor"), event("endEvent", "end"), event("endEvent", "end_noted"),
        seq("start", "stage", "after", "end"), seq("noted", "inform_supervisor", "end_noted")), ESCALATION))
    run = flow.start("escalating")
    assert run.ready() == ["inform_supervisor", "inside"]
    run.complete("inside").complete("inform_supervisor").complete("after")
    assert run.status == "completed"


def test_a_terminate_end_event_ends_every_other_branch(flow):
    flow.deploy(process(
        "terminating", event("startEvent", "start"), '<bpmn:parallelGateway id="fork" />', user("slow", "fast"),
        event("endEvent", "end_slow"), event("endEvent", "stop", "<bpmn:terminateEventDefinition />"),
        seq("start", "fork", "slow", "end_slow"), seq("fork", "fast", "stop")))
    run = flow.start("terminating")
    run.complete("fast")
    assert run.status == "completed" and run.ready() == [] and "slow" not in run.path()


def test_an_error_event_subprocess_catches_an_error_thrown_in_its_process(flow):
    flow.deploy(definitions(process(
        "error_handled", event("startEvent", "start"), user("work"),
        event("endEvent", "fail", '<bpmn:errorEventDefinition errorRef="err_stock" />'),
        seq("start", "work", "fail"),
        '<bpmn:subProcess id="on_error" name="on_error" triggeredByEvent="true">'
        + event("startEvent", "error_start", '<bpmn:errorEventDefinition errorRef="err_stock" />')
        + user("recover") + event("endEvent", "recovered") + seq("error_start", "recover", "recovered")
        + "</bpmn:subProcess>"), ERROR))
    run = flow.start("error_handled")
    run.complete("work")
    assert run.ready() == ["recover"] and run.incidents() == []
    run.complete("recover")
    assert run.status == "completed"


def test_a_cancel_end_event_in_a_transaction_takes_its_cancel_boundary(flow):
    flow.deploy(process(
        "transacting", event("startEvent", "start"),
        '<bpmn:transaction id="order" name="order">' + event("startEvent", "t_start") + user("decide")
        + '<bpmn:exclusiveGateway id="ok" default="f_ok_t_end" />' + event("endEvent", "t_end")
        + event("endEvent", "t_cancel", "<bpmn:cancelEventDefinition />")
        + seq("t_start", "decide", "ok", "t_end") + cond("ok", "t_cancel", "not proceed") + "</bpmn:transaction>",
        event("boundaryEvent", "aborted", "<bpmn:cancelEventDefinition />", attachedToRef="order"),
        user("after", "clean_up"), event("endEvent", "end"), event("endEvent", "end_aborted"),
        seq("start", "order", "after", "end"), seq("aborted", "clean_up", "end_aborted")))
    cancelled = flow.start("transacting")
    cancelled.complete("decide", {"proceed": False})
    assert cancelled.ready() == ["clean_up"]
    done = flow.start("transacting")
    done.complete("decide", {"proceed": True})
    assert done.ready() == ["after"]


def test_a_none_intermediate_throw_event_passes_the_token_on(flow):
    flow.deploy(process(
        "milestone", event("startEvent", "start"), event("intermediateThrowEvent", "reached"), user("after"),
        event("endEvent", "end"), seq("start", "reached", "after", "end")))
    run = flow.start("milestone")
    assert run.ready() == ["after"] and "reached" in run.path()


def test_a_data_object_is_shared_by_the_tasks_that_reference_it(flow):
    flow.deploy(process(
        "with_data", '<bpmn:dataObject id="case_file" name="case_file" />', event("startEvent", "start"),
        '<bpmn:scriptTask id="write" name="write"><bpmn:dataOutputAssociation id="out"><bpmn:targetRef>ref_w'
        '</bpmn:targetRef></bpmn:dataOutputAssociation><bpmn:script>case_file = {"note": "seen"}</bpmn:script>'
        '</bpmn:scriptTask>',
        '<bpmn:dataObjectReference id="ref_w" dataObjectRef="case_file" />',
        '<bpmn:dataObjectReference id="ref_r" dataObjectRef="case_file" />',
        '<bpmn:scriptTask id="read" name="read"><bpmn:dataInputAssociation id="in"><bpmn:sourceRef>ref_r'
        '</bpmn:sourceRef><bpmn:targetRef>read_input</bpmn:targetRef></bpmn:dataInputAssociation>'
        '<bpmn:script>note = case_file["note"]</bpmn:script>'
        '</bpmn:scriptTask>',
        user("after"), event("endEvent", "end"), seq("start", "write", "read", "after", "end")))
    run = flow.start("with_data")
    assert run.ready() == ["after"] and run.data()["note"] == "seen"


def test_a_lane_gives_its_tasks_to_the_role_of_its_name(flow):
    flow.deploy(process(
        "laned", '<bpmn:laneSet id="ls"><bpmn:lane id="l_wh" name="Warehouse"><bpmn:flowNodeRef>pick'
        '</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>', event("startEvent", "start"), user("pick"),
        event("endEvent", "end"), seq("start", "pick", "end")))
    [item] = flow.start("laned").work_items()
    assert (item.lane, item.role) == ("Warehouse", "warehouse")


def test_a_message_boundary_event_interrupts_the_task_when_its_message_arrives(flow):
    flow.deploy(definitions(process(
        "interruptible", event("startEvent", "start"), user("work", "handle"), event("endEvent", "end"),
        event("boundaryEvent", "stop", message_def("stop", "stop_reason"), attachedToRef="work"),
        event("endEvent", "end_stopped"), seq("start", "work", "end"), seq("stop", "handle", "end_stopped")),
        message("stop")))
    run = flow.start("interruptible", {}, "T-9")
    assert run.subscriptions() == [("stop", "stop")]
    run.message("stop", {"why": "duplicate"})
    assert run.ready() == ["handle"] and run.subscriptions() == []
    assert run.data()["stop_reason"] == {"why": "duplicate"}


def test_a_message_end_event_sends_its_message_to_the_waiting_instance(flow):
    payload = ('<bpmn:extensionElements><spiffworkflow:messagePayload>{"ticket": ticket}'
               '</spiffworkflow:messagePayload></bpmn:extensionElements>')
    flow.deploy(definitions(
        process("waiter", event("startEvent", "start"), event("intermediateCatchEvent", "wait", message_def("done")),
                user("after"), event("endEvent", "end"), seq("start", "wait", "after", "end")),
        process("sender", event("startEvent", "s_start"), user("finish"),
                event("endEvent", "s_end", f'<bpmn:messageEventDefinition messageRef="msg_done">{payload}'
                                           '</bpmn:messageEventDefinition>'),
                seq("s_start", "finish", "s_end")),
        message("done")))
    waiter = flow.start("waiter", {"ticket": "T-5"}, "T-5")
    sender = flow.start("sender", {"ticket": "T-5"}, "T-5")
    sender.complete("finish")
    assert sender.status == "completed"
    assert waiter.ready() == ["after"] and waiter.subscriptions() == []


def test_a_non_interrupting_message_boundary_event_fires_at_every_message_while_the_task_runs(flow):
    flow.deploy(definitions(process(
        "noted", event("startEvent", "start"), user("work", "note"), event("endEvent", "end"),
        event("boundaryEvent", "remark", message_def("remark"), attachedToRef="work", cancelActivity="false"),
        event("endEvent", "end_note"), seq("start", "work", "end"), seq("remark", "note", "end_note")),
        message("remark")))
    run = flow.start("noted", {}, "T-11")
    run.message("remark")
    assert run.ready() == ["note", "work"]
    run.message("remark")  # it stays armed while the task runs
    assert run.ready() == ["note", "note", "work"] and run.subscriptions() == [("remark", "remark")]
    run.complete("work")
    assert run.subscriptions() == [] and run.ready() == ["note", "note"]


def test_an_escalation_end_event_is_caught_by_an_interrupting_boundary(flow):
    flow.deploy(_end_caught_by_boundary(
        "escalated_end", '<bpmn:escalationEventDefinition escalationRef="esc_late" />', ESCALATION))
    run = flow.start("escalated_end")
    run.complete("inside")
    assert run.ready() == ["handle"]
    run.complete("handle")
    assert run.status == "completed" and "normal" not in run.path()


def test_an_escalation_event_subprocess_catches_an_escalation_of_its_subprocess(flow):
    watcher = ('<bpmn:subProcess id="on_late" name="on_late" triggeredByEvent="true">'
               '<bpmn:startEvent id="late_start" name="late_start" isInterrupting="false">'
               '<bpmn:escalationEventDefinition escalationRef="esc_late" /></bpmn:startEvent>'
               + user("inform") + event("endEvent", "informed") + seq("late_start", "inform", "informed")
               + "</bpmn:subProcess>")
    flow.deploy(definitions(process(
        "escalation_watch", event("startEvent", "start"),
        event("intermediateThrowEvent", "late", '<bpmn:escalationEventDefinition escalationRef="esc_late" />'),
        user("work"), event("endEvent", "end"), seq("start", "late", "work", "end"), watcher), ESCALATION))
    run = flow.start("escalation_watch")
    assert run.ready() == ["inform", "work"]
    run.complete("inform").complete("work")
    assert run.status == "completed"



def test_an_error_nothing_catches_is_an_incident_naming_the_end_event_not_a_quiet_end(flow):
    inner = ('<bpmn:subProcess id="stage" name="stage">' + event("startEvent", "s_start") + user("inside")
             + event("endEvent", "fail", '<bpmn:errorEventDefinition errorRef="err_stock" />')
             + seq("s_start", "inside", "fail") + "</bpmn:subProcess>")
    flow.deploy(definitions(process("uncaught", event("startEvent", "start"), inner, user("after"),
                                    event("endEvent", "end"), seq("start", "stage", "after", "end")), ERROR))
    run = flow.start("uncaught")
    run.complete("inside")
    assert run.status == "incident" and run.ready() == []
    [incident] = run.incidents()
    assert incident == ("fail: error 'OUT_OF_STOCK' thrown by end event 'fail' is caught by no error boundary "
                        "event or event subprocess")
