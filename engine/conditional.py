"""Conditional events, evaluated after every trigger against the instance's current data.

SpiffWorkflow 3.2 evaluates a conditional event only when its token arrives, against that
token's own copy of the data: a variable set later, or on a parallel branch, never fires
it, and a conditional event-subprocess start is never evaluated at all. Here, once the
engine steps of a trigger have settled, every waiting conditional event (intermediate
catch, boundary, event-subprocess start) is evaluated against the task's data overlaid
with the instance's current data (the data of the step that completed last); one that
holds takes that data and fires. A conditional event-subprocess start fires when its
condition *becomes* true (the last value is kept on the process's root task), so a
condition that stays true starts its event subprocess once.

A condition naming a variable that does not exist yet is false; any other failure is the
model's error and surfaces as an incident of the waiting event.
"""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState

from .projection import current_data
from .spiff import REARMED, evaluate_condition, is_interrupted

LAST_VALUES = "aftersales_conditions"


def fire_conditions(workflow: BpmnWorkflow) -> bool:
    """Fire every conditional event that now holds; tell whether any fired."""
    waiting = [t for t in workflow.event_manager.tasks.values() if t.state == TaskState.WAITING
               and isinstance(getattr(t.task_spec, "event_definition", None), ConditionalEventDefinition)]
    if not waiting and not _conditional_starts(workflow):
        return False  # the common case costs no data lookup
    data = current_data(workflow)
    fired = False
    for task in waiting:
        evdef = task.task_spec.event_definition
        context = {**task.data, **data}
        holds = evaluate_condition(task, evdef.expression, context)
        if task.internal_data.get(REARMED):
            if not holds:
                del task.internal_data[REARMED]  # turned false: the next time it holds, it fires
            continue
        if holds:
            task.data = copy.deepcopy(context)
            task.task_spec._update(task)
            fired = True
    return _start_event_subprocesses(workflow, data) or fired


def _conditional_starts(workflow: BpmnWorkflow) -> list[tuple[str, Any]]:
    """Return (event subprocess name, start event) of the process's conditional event-subprocess starts."""
    found = []
    for name in workflow.spec.start.trigger_specs:
        for start in getattr(workflow.subprocess_specs.get(name), "bpmn_start_events", []):
            if isinstance(start.event_definition, ConditionalEventDefinition):
                found.append((name, start))
    return found


def _start_event_subprocesses(workflow: BpmnWorkflow, data: dict[str, Any]) -> bool:
    starts = _conditional_starts(workflow)
    if not starts or workflow.is_completed() or is_interrupted(workflow):
        return False
    root = workflow.task_tree
    last: dict[str, bool] = dict(root.internal_data.get(LAST_VALUES, {}))
    started = False
    for name, start in starts:
        holds = evaluate_condition(root, start.event_definition.expression, data)
        if holds and not last.get(start.name, False):
            _trigger(workflow, name, data)
            started = True
        last[start.name] = holds
    if last != root.internal_data.get(LAST_VALUES, {}):
        root.internal_data[LAST_VALUES] = last
    return started


def _trigger(workflow: BpmnWorkflow, spec_name: str, data: dict[str, Any]) -> None:
    """Start the event subprocess ``spec_name`` with the current data; its start event then holds."""
    before = set(workflow.subprocesses)
    workflow.spec.start.trigger_wf(workflow.task_tree, spec_name)
    for sp_id in set(workflow.subprocesses) - before:
        for task in [workflow.get_task_from_id(sp_id), *workflow.subprocesses[sp_id].tasks.values()]:
            task.data = copy.deepcopy(data)
        for task in workflow.subprocesses[sp_id].tasks.values():
            if task.state == TaskState.WAITING and isinstance(task.task_spec, StartEvent):
                task.task_spec._update(task)


