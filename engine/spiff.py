"""Everything that touches SpiffWorkflow's classes: parser, service task, serializer.

The rest of the engine talks to SpiffWorkflow through this module and :mod:`engine.store`.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition

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


# --- serialization: specs by reference --------------------------------------------------

_SPECS: ContextVar[dict[str, Any]] = ContextVar("aftersales_specs")


class SpecRefWorkflowConverter(BpmnWorkflowConverter):
    """Serialize a workflow with its specs named, not copied (they live in the deployment)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
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
    spec_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(dict(config)))
    config[BpmnWorkflow] = SpecRefWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config)), spec_serializer


_STATE, _SPEC = _build_serializers()
SERIALIZER_VERSION: str = _STATE.VERSION


def spec_to_dict(spec: Any) -> dict[str, Any]:
    """Return a process spec as plain JSON-able data."""
    return json.loads(json.dumps(_SPEC.to_dict(spec), cls=_SPEC._encoder_cls))


def spec_from_dict(dct: dict[str, Any]) -> Any:
    """Rebuild a process spec from :func:`spec_to_dict` output."""
    return _SPEC.from_dict(json.loads(json.dumps(dct)))


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's state (without specs) to a JSON string."""
    return _STATE.serialize_json(workflow)


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
