"""A save checks finished tasks cheaply, yet sees every change to them; a long history is judged whole.

The state log skips a finished task whose data object, state, links, flags and spec are as
they were at the last save (:mod:`engine.state_log`); whatever changes behind its state —
internal data the engine notes on the finished root, a data dict swapped for one that only
``==`` calls equal, its parent's data — must still be written. The projection tells an ended
workflow by looking at every task (:func:`engine.projection.is_completed`), where
SpiffWorkflow's iterator stops 1,000 levels down a loop's long chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import projection, spiff, state_log
from engine.bundle import Bundle
from engine.lint import lint_bundle
from tests.bpmn_builder import HEAD

CHAIN = HEAD + '''<bpmn:process id="chain" isExecutable="true">
<bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>ask</bpmn:flowNodeRef>
<bpmn:flowNodeRef>step</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="start" />
<bpmn:scriptTask id="first" name="First"><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>
<bpmn:scriptTask id="second" name="Second"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="ask" name="Ask" />
<bpmn:userTask id="step" name="Step" />
<bpmn:scriptTask id="inc" name="Count"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="gw" name="Done?" default="f_again" />
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
<bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
<bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="ask" />
<bpmn:sequenceFlow id="f4" sourceRef="ask" targetRef="step" />
<bpmn:sequenceFlow id="f5" sourceRef="step" targetRef="inc" />
<bpmn:sequenceFlow id="f6" sourceRef="inc" targetRef="gw" />
<bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="end"><bpmn:conditionExpression>done</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="step" />
</bpmn:process></bpmn:definitions>'''


class NoServices:
    """The process calls no handlers."""

    def invoke(self, task, operator, arguments):  # type: ignore[no-untyped-def]
        raise AssertionError("no service tasks here")


def started() -> BpmnWorkflow:
    """Return the chain process run in memory up to its first user task, saved once."""
    specs = lint_bundle(Bundle("chain", {"chain.bpmn": CHAIN.encode()})).specs
    workflow = spiff.new_workflow(specs["chain"], {k: v for k, v in specs.items() if k != "chain"})
    workflow.task_tree.data.update({"done": False})
    workflow.script_engine = spiff.AftersalesScriptEngine(NoServices())  # type: ignore[arg-type]
    workflow.do_engine_steps()
    state_log.record(workflow, state_log.saved_of(workflow))
    return workflow


def finished(workflow: BpmnWorkflow, name: str) -> Task:
    """Return the finished task of element ``name`` (the workflow's root for "Root")."""
    if name == "Root":
        return workflow.task_tree
    return next(t for t in workflow.tasks.values() if t.task_spec.name == name and t.state == TaskState.COMPLETED)


def written_by(delta: str | None) -> set[str]:
    """Return the ids of the tasks a delta writes."""
    return {tid for tasks in json.loads(delta or "{}").get("tasks", {}).values() for tid in tasks}


def assert_log_is_the_full_dump(workflow: BpmnWorkflow) -> None:
    """The log's whole document is the full dump, as exact JSON text (1, 1.0 and True apart)."""
    full = json.loads(state_log.full_text(state_log.saved_of(workflow)))
    assert json.dumps(full, sort_keys=True) == json.dumps(json.loads(spiff.dump_workflow(workflow)), sort_keys=True)


def note_on(task: Task) -> None:
    task.internal_data["last_values"] = {"n": 2}  # as the engine notes conditions on the finished root


def swap_data(task: Task) -> None:
    task.data = {**task.data, "n": True}  # a new dict that == calls equal to the old one (1 == True)


def flip_triggered(task: Task) -> None:
    task.triggered = not task.triggered


def drop_children(task: Task) -> None:
    task._children = []


@pytest.mark.parametrize(("name", "change"), [("Root", note_on), ("first", swap_data), ("first", flip_triggered),
                                              ("second", note_on), ("second", drop_children)])
def test_a_finished_task_changed_behind_its_state_is_written_again(name: str, change: Callable[[Task], Any]):
    # Given a workflow saved twice over, its finished tasks settled
    workflow = started()
    assert state_log.record(workflow, state_log.saved_of(workflow)) is None
    task = finished(workflow, name)

    # When a finished task changes without its state changing
    change(task)
    delta = state_log.record(workflow, state_log.saved_of(workflow))

    # Then the next save writes it, and the log is still the full dump
    assert str(task.id) in written_by(delta)
    assert_log_is_the_full_dump(workflow)


def test_a_finished_task_is_written_again_when_its_parents_data_changes():
    # Given a workflow saved twice over, a finished script task below a finished one
    workflow = started()
    state_log.record(workflow, state_log.saved_of(workflow))
    parent, child = finished(workflow, "first"), finished(workflow, "second")
    assert child.parent is parent

    # When the parent's data gains a value (its child's JSON is written as a delta on it)
    parent.data = {**parent.data, "extra": "x"}
    delta = state_log.record(workflow, state_log.saved_of(workflow))

    # Then both are written, and the log is still the full dump
    assert {str(parent.id), str(child.id)} <= written_by(delta)
    assert_log_is_the_full_dump(workflow)


def run_loop(workflow: BpmnWorkflow, times: int) -> None:
    for _ in range(times):
        ready = [t for t in workflow.tasks.values() if t.state == TaskState.READY and t.task_spec.manual]
        ready[0].run()
        workflow.do_engine_steps()


def run_by_hand(workflow: BpmnWorkflow, tasks: int | None = None) -> None:
    """Run ``tasks`` ready tasks (all there are: None) one by one, engine tasks too: SpiffWorkflow's own
    engine steps find no ready task below 1,000 levels."""
    done = 0
    while tasks is None or done < tasks:
        ready = next((t for t in workflow.tasks.values() if t.state == TaskState.READY), None)
        if ready is None:
            return
        ready.run()
        done += 1


def test_a_loop_deeper_than_a_thousand_levels_is_not_taken_for_completed():
    # Given a loop that went round until its task tree is more than 1,000 levels deep
    workflow = started()
    run_loop(workflow, 1)  # past "ask", into the loop
    run_by_hand(workflow, 3 * 340)
    assert len(workflow.tasks) > 1_000

    # When asked whether it ended, it has not: its step waits at the bottom of the chain
    assert not projection.is_completed(workflow)
    assert [t.task_spec.name for t in projection.ready_human_tasks(workflow)] == ["step"]

    # And once the loop is told to stop and goes round once more, it has
    projection.ready_human_tasks(workflow)[0].data["done"] = True
    run_by_hand(workflow)
    assert projection.is_completed(workflow) and workflow.completed


def test_each_save_of_a_loop_writes_a_handful_of_tasks_and_keeps_the_log_whole():
    # Given a loop saved after every round
    workflow = started()
    run_loop(workflow, 1)
    sizes = []
    for _ in range(60):
        run_loop(workflow, 1)
        # When it is saved
        sizes.append(len(written_by(state_log.record(workflow, state_log.saved_of(workflow)))))
    # Then every save writes the few tasks the round changed, however long the history
    assert len(workflow.tasks) > 180 and max(sizes) <= 12
    assert_log_is_the_full_dump(workflow)
