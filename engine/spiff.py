"""Everything that touches SpiffWorkflow's classes: parser, service task, serializer.

The rest of the engine talks to SpiffWorkflow through this module and :mod:`engine.store`.
"""

from __future__ import annotations

import json
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnStartTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState

from .registry import BusinessError
from .sandbox import RestrictedEnvironment

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from .service import ServiceRunner


class UncaughtBusinessError(Exception):
    """Raised when a handler's business error has no boundary or event subprocess to catch it."""

    def __init__(self, error: BusinessError) -> None:
        super().__init__(f"business error {error.code!r} is not caught by the process: {error.message}")
        self.error = error


class HandlerServiceTask(SpiffServiceTask):
    """A service task that calls a registered Python handler directly (no JSON hop).

    A :class:`BusinessError` becomes a BPMN error event thrown at this task, caught by an
    error boundary event or event subprocess matching its code.
    """

    def _execute(self, my_task: Task) -> bool | None:
        params = {k: v["value"] for k, v in self.evaluate_params(my_task).items()}
        engine: AftersalesScriptEngine = my_task.workflow.script_engine
        try:
            result = engine.services.invoke(my_task, self.operation_name, params)
        except BusinessError as exc:
            top = my_task.workflow.top_workflow
            event = BpmnEvent(ErrorEventDefinition(exc.code, code=exc.code),
                              payload={"code": exc.code, "message": exc.message, **exc.payload},
                              target=my_task.workflow)
            top.catch(event)
            if event in top.bpmn_events:
                top.bpmn_events.remove(event)
                raise UncaughtBusinessError(exc) from exc
            return None  # the interrupting boundary event cancels this task
        my_task.data[self.result_variable] = result
        return True


class SharedSpecStartTask(BpmnStartTask):
    """A process's start task that starts event subprocesses without rewiring the spec.

    SpiffWorkflow 3.2's ``trigger_wf`` connects a message-started event subprocess into the
    *spec* (``Start → subprocess → EndJoin``) the first time its event arrives. Specs are
    shared by every instance of a deployment, so every instance started afterwards would
    predict the event subprocess as a child of ``Start`` and wait for it for ever. Here the
    subprocess's own edges are wired once when the spec is restored (:func:`spec_from_dict`),
    ``Start``'s outputs are never touched, and a trigger only adds a task to one instance.
    """

    def trigger_wf(self, my_task: Task, spec_name: str) -> Any:
        spec = self._wf_spec.task_specs[spec_name]
        child = my_task._add_child(spec, TaskState.FUTURE)
        child.triggered = True
        child.task_spec._update(child)
        return child.id

    def wire_triggered(self) -> None:
        """Give each event subprocess ``Start`` as input and the end join as output, one way only."""
        for name in self.trigger_specs:
            spec = self._wf_spec.task_specs[name]
            if self.name not in spec._inputs:
                spec._inputs.append(self.name)
            if self._wf_spec.end.name not in spec._outputs:
                spec._outputs.append(self._wf_spec.end.name)


class AftersalesParser(SpiffBpmnParser):
    """The spiff dialect parser, with service tasks bound to the handler registry."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, HandlerServiceTask),
    }


class AftersalesScriptEngine(PythonScriptEngine):
    """The script engine of one trigger: sandboxed scripts plus the handler runner."""

    def __init__(self, services: ServiceRunner) -> None:
        super().__init__(environment=RestrictedEnvironment())
        self.services = services


# --- serialization: specs by reference, finished tasks from a fragment cache -------------
#
# A workflow's JSON is the same as SpiffWorkflow's own, minus the specs. Finished tasks
# (COMPLETED, CANCELLED) don't change while their state, state time, parent and children
# stay the same, so their JSON text is kept on the workflow object and reused: a save
# costs the live part of the tree, not the whole history. AFTERSALES_VERIFY_STATE=1
# compares every incremental dump with a full one (the test suite turns it on).

_SPECS: ContextVar[dict[str, Any]] = ContextVar("aftersales_specs")
_DUMP: ContextVar[tuple[dict[Any, Any], dict[str, str]] | None] = ContextVar("aftersales_dump", default=None)
_FRAGMENTS = "_aftersales_fragments"
_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


class _FragmentTasks:
    """Renders a workflow's ``tasks`` mapping from cached per-task JSON where possible."""

    def tasks_or_slot(self, converter: WorkflowConverter, workflow: Any) -> Any:
        dump = _DUMP.get()
        if dump is None:
            return converter.mapping_to_dict(workflow.tasks)
        cache, slots = dump
        encoder = _STATE._encoder_cls
        parts = []
        for tid, task in workflow.tasks.items():
            signature = (task.state, task.last_state_change, task._parent, tuple(task._children))
            entry = cache.get(tid)
            if entry is not None and entry[0] == signature:
                fragment = entry[1]
            else:
                fragment = json.dumps(converter.registry.convert(task), cls=encoder)
                if task.state & _FINISHED:
                    cache[tid] = (signature, fragment)
            parts.append(f'"{tid}": {fragment}')
        key = f"\u0000tasks:{id(workflow)}\u0000"
        slots[key] = "{" + ", ".join(parts) + "}"
        return key


_fragments = _FragmentTasks()


def _workflow_dict(converter: WorkflowConverter, workflow: Any) -> dict[str, Any]:
    return {
        "data": converter.registry.convert(converter.registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": _fragments.tasks_or_slot(converter, workflow),
        "root": str(workflow.task_tree.id),
    }


class FragmentSubWorkflowConverter(BpmnSubWorkflowConverter):
    """Serialize a subprocess with cached task fragments."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct = _workflow_dict(self, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct


class SpecRefWorkflowConverter(BpmnWorkflowConverter):
    """Serialize a workflow with its specs named, not copied (they live in the deployment)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = _workflow_dict(self, workflow)
        dct["spec"] = workflow.spec.name
        dct["subprocess_specs"] = sorted(workflow.subprocess_specs)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        specs = _SPECS.get()
        spec = specs[dct.pop("spec")]
        subprocess_specs = {name: specs[name] for name in dct.pop("subprocess_specs", [])}
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_serializers() -> tuple[BpmnWorkflowSerializer, BpmnWorkflowSerializer]:
    config = dict(SPIFF_CONFIG)
    config[HandlerServiceTask] = ServiceTaskConverter
    spec_registry = BpmnWorkflowSerializer.configure(dict(config))
    # Restored specs get the non-mutating start task; stored specs keep SpiffWorkflow's typename.
    BpmnStartTaskConverter(SharedSpecStartTask, spec_registry, typename="BpmnStartTask")
    spec_serializer = BpmnWorkflowSerializer(spec_registry)
    config[BpmnWorkflow] = SpecRefWorkflowConverter
    config[BpmnSubWorkflow] = FragmentSubWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config)), spec_serializer


_STATE, _SPEC = _build_serializers()
SERIALIZER_VERSION: str = _STATE.VERSION


def spec_to_dict(spec: Any) -> dict[str, Any]:
    """Return a process spec as plain JSON-able data."""
    return json.loads(json.dumps(_SPEC.to_dict(spec), cls=_SPEC._encoder_cls))


def spec_from_dict(dct: dict[str, Any]) -> Any:
    """Rebuild a process spec from :func:`spec_to_dict` output."""
    spec = _SPEC.from_dict(json.loads(json.dumps(dct)))
    if isinstance(spec.start, SharedSpecStartTask):
        spec.start.wire_triggered()
    return spec


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's state (without specs) to a JSON string, reusing finished tasks' JSON."""
    cache = getattr(workflow, _FRAGMENTS, None)
    if cache is None:
        cache = {}
        setattr(workflow, _FRAGMENTS, cache)
    slots: dict[str, str] = {}
    token = _DUMP.set((cache, slots))
    _STATE.registry._encoder_mode = True
    try:
        dct = _STATE.to_dict(workflow)
        dct[_STATE.VERSION_KEY] = _STATE.VERSION
        text = json.dumps(dct, cls=_STATE._encoder_cls)
    finally:
        _STATE.registry._encoder_mode = False
        _DUMP.reset(token)
    for key, tasks in slots.items():
        text = text.replace(json.dumps(key), tasks, 1)
    if len(cache) > 2 * len(workflow.tasks) + 64:
        live = set(workflow.tasks) | {tid for sub in workflow.subprocesses.values() for tid in sub.tasks}
        for tid in [t for t in cache if t not in live]:
            del cache[tid]
    if os.environ.get("AFTERSALES_VERIFY_STATE") == "1":
        _verify_dump(workflow, text)
    return text


def _verify_dump(workflow: BpmnWorkflow, text: str) -> None:
    full = _STATE.serialize_json(workflow)
    if json.loads(full) != json.loads(text):
        raise AssertionError("incremental workflow serialization differs from a full one")


def load_workflow(state: str, specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_workflow` output and the deployment's specs."""
    token = _SPECS.set(specs)
    try:
        return _STATE.deserialize_json(state)
    finally:
        _SPECS.reset(token)


def new_workflow(spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Create a fresh workflow for ``spec``."""
    return BpmnWorkflow(spec, subprocess_specs)
