"""Everything that touches SpiffWorkflow's classes: parser, service task, serializer.

The rest of the engine talks to SpiffWorkflow through this module and :mod:`engine.store`.
"""

from __future__ import annotations

import copy
import json
import pickle
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CANCEL_EVENT_XPATH,
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TERMINATION_EVENT_XPATH,
    TIMER_EVENT_XPATH,
    EventBasedGatewayParser,
)
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnStartTaskConverter, BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask, _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition as BpmnErrorEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffEndEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffIntermediateThrowEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from . import clock
from .registry import BusinessError
from .sandbox import RestrictedEnvironment

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from .service import ServiceRunner


def private_copy(value: Any) -> Any:
    """Return a deep copy of task data: by a pickle round trip (about three times quicker than
    ``copy.deepcopy`` for plain data, shared references and types kept alike), or by ``deepcopy``
    where pickle refuses a value (a module, a lambda)."""
    try:
        return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301 — our own bytes
    except Exception:  # noqa: BLE001 — whatever pickle refuses, deepcopy copies as before
        return copy.deepcopy(value)


def _inherit_data(self: Task) -> None:
    """Merge the parent's data into this task's, as SpiffWorkflow does, but from a deep copy.

    SpiffWorkflow 3.2 merges the parent's data in by reference, so a list or dict a later
    task changes in place changes in the finished tasks before it too — but only while the
    workflow stays in memory (a workflow read back from the database shares nothing). The
    state log writes a finished task once (:mod:`engine.state_log`); its data must not move.
    """
    self.data = DeepMerge.merge(self.data, private_copy(self.parent.data))


SpiffTask._inherit_data = _inherit_data  # type: ignore[method-assign]


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
        # predict the end join after it, so that the process ends through it (and keeps its data)
        child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
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


class LinkThrowEvent(BpmnSpecMixin):
    """An intermediate link throw event: its token goes on at the link catch event of the same name."""


class LinkAwareThrowEventParser(SpiffIntermediateThrowEventParser):
    """Parse link throw events, which SpiffWorkflow 3.2 takes for none events (the token just ended).

    A link pair is a sequence flow drawn in two pieces: the throw is connected to the one
    ``intermediateCatchEvent`` of the same container whose ``linkEventDefinition`` has the
    same name (that catch, having no event to wait for, passes the token on at once).
    """

    def link_name(self) -> str | None:
        """Return the name of the node's link event definition, if it has one."""
        found = self.xpath("./bpmn:linkEventDefinition")
        return (found[0].get("name") or "") if found else None

    def create_task(self) -> Any:
        if self.link_name() is None:
            return super().create_task()
        return LinkThrowEvent(self.spec, self.bpmn_id, **self.bpmn_attributes)

    def parse_node(self) -> Any:
        task = super().parse_node()
        name = self.link_name()
        if name is None:
            return task
        if not name:
            self.raise_validation_exception("a link throw event needs a link name")
        catches = [node for node in self.process_parser.xpath("./bpmn:intermediateCatchEvent")
                   if any(d.get("name") == name for d in node.findall(full_tag("linkEventDefinition")))]
        if len(catches) != 1:
            where = "no" if not catches else f"{len(catches)}"
            self.raise_validation_exception(f"link {name!r} is thrown here but {where} intermediate catch events "
                                            f"of this process or subprocess catch it (exactly one must)")
        task.connect(self.process_parser.parse_node(catches[0]))
        return task


class FirstCycleTimerEventDefinition(TimerEventDefinition):
    """A cycle timer that fires once, at its first occurrence.

    SpiffWorkflow 3.2 lets a cycle on an intermediate catch event or an interrupting boundary
    event send a new token at every occurrence while the event keeps waiting (the process
    cannot end, the interrupted task is never cancelled). In BPMN only a non-interrupting
    boundary event repeats; everywhere else the first occurrence is the event.
    """

    def has_fired(self, my_task: Task) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            _, start, _ = TimerEventDefinition.parse_iso_recurring_interval(expression)
            due = start.isoformat()
            my_task._set_internal_data(event_value=due)
        if TimerEventDefinition.get_datetime(due) < clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))

    def details(self, my_task: Task) -> Any:
        return PendingBpmnEvent(self.name, self.__class__.__name__, my_task._get_internal_data("event_value"))


CYCLE_TIMERS = (CycleTimerEventDefinition, FirstCycleTimerEventDefinition)


class DataConditionalEventDefinition(ConditionalEventDefinition):
    """A conditional event whose condition is false while a variable it names does not exist.

    SpiffWorkflow 3.2 raises there, so a condition on a variable that a later step sets could
    never wait for it. Any other failure fails the waiting event (an incident naming it).
    :mod:`engine.conditional` evaluates waiting ones again after every trigger.
    """

    def has_fired(self, my_task: Task) -> bool:
        holds = evaluate_condition(my_task, self.expression, my_task.data)
        my_task._set_internal_data(has_fired=holds)
        return holds


def evaluate_condition(task: Task, expression: str, context: dict[str, Any]) -> bool:
    """Evaluate a conditional event's expression for ``task``: a missing variable is false; any
    other failure puts ``task`` in error and raises :class:`WorkflowTaskException`."""
    try:
        return bool(task.workflow.script_engine.environment.evaluate(expression, context))
    except NameError:
        return False
    except Exception as exc:
        if task.state != TaskState.COMPLETED:
            task.error()
        raise WorkflowTaskException(f"condition {expression!r} failed: {type(exc).__name__}: {exc}",
                                    task=task, exception=exc) from exc


def _adapt_event_definition(task_spec: Any) -> Any:
    """Swap in the event definitions that behave by the standard (cycles that fire once, conditions)."""
    evdef = task_spec.event_definition
    if isinstance(evdef, CycleTimerEventDefinition) and getattr(task_spec, "cancel_activity", True):
        task_spec.event_definition = FirstCycleTimerEventDefinition(evdef.name, evdef.expression,
                                                                    description=evdef.description)
    elif type(evdef) is ConditionalEventDefinition:
        task_spec.event_definition = DataConditionalEventDefinition(evdef.expression, name=evdef.name,
                                                                    description=evdef.description)
    return task_spec


class CycleAwareCatchEventParser(SpiffIntermediateCatchEventParser):
    """Parse intermediate catch events; a cycle timer there fires once (its first occurrence), a
    condition waits for its variables."""

    def create_task(self) -> Any:
        return _adapt_event_definition(super().create_task())


class RearmingBoundaryEvent(BoundaryEvent):
    """A non-interrupting boundary event that stays armed while its activity runs.

    SpiffWorkflow 3.2 lets a non-interrupting message, signal, escalation or conditional
    boundary event fire once; in BPMN it fires every time its event occurs until the activity
    ends. Each time it fires, a fresh one waits beside the activity again (a condition must
    turn false before it can fire again). Timers are left alone: a duration or date fires once,
    a cycle repeats by itself.
    """

    def _on_complete_hook(self, my_task: Task) -> None:
        super()._on_complete_hook(my_task)
        split = my_task.parent
        if isinstance(self.event_definition, TimerEventDefinition) or split is None:
            return
        running = [t for t in split.children if not isinstance(t.task_spec, BoundaryEvent)
                   and t.has_state(TaskState.NOT_FINISHED_MASK)]
        if not running:
            return
        again = split._add_child(self, TaskState.WAITING)
        again.data = dict(split.data)
        self._predict(again, mask=TaskState.WAITING | TaskState.PREDICTED_MASK)  # its flow, for when it fires
        if isinstance(self.event_definition, ConditionalEventDefinition):
            again.internal_data[REARMED] = True  # fires again only after the condition turned false
        my_task.workflow.top_workflow.event_manager.add_task(again)


REARMED = "aftersales_wait_for_false"


class CycleAwareBoundaryEventParser(SpiffBoundaryEventParser):
    """Parse boundary events; a cycle timer on an interrupting one fires once (its first occurrence),
    a condition waits for its variables, a non-interrupting one stays armed while its activity runs."""

    def create_task(self) -> Any:
        if self.node.get("cancelActivity", "true").lower() == "false":
            self.spec_class = RearmingBoundaryEvent
        return _adapt_event_definition(super().create_task())


class InterruptingStartEvent(StartEvent):
    """The start event of an interrupting event subprocess (``isInterrupting`` true, BPMN's default).

    SpiffWorkflow 3.2 runs every event subprocess beside the rest of its process. When this
    start event fires, every other token of the enclosing process or subprocess is cancelled
    — tasks, waiting events, running subprocesses and other event subprocesses — so that only
    this event subprocess runs on, and the scope ends when it ends.
    """

    def _run_hook(self, my_task: Task) -> Any:
        result = super()._run_hook(my_task)
        interrupt_scope(my_task)
        return result


INTERRUPTED = "aftersales_interrupted_by"


def is_interrupted(scope: Any) -> bool:
    """Tell whether an interrupting event subprocess has taken over ``scope`` (its other event
    subprocesses no longer start)."""
    return INTERRUPTED in scope.task_tree.internal_data


def interrupt_scope(start_task: Task) -> None:
    """Cancel every unfinished task of the scope around ``start_task``'s event subprocess but that one."""
    inner = start_task.workflow
    if inner.parent_task_id is None:
        return
    subprocess_task = inner.top_workflow.get_task_from_id(inner.parent_task_id)
    scope = subprocess_task.workflow
    scope.task_tree.internal_data[INTERRUPTED] = str(subprocess_task.id)
    for task in [t for t in scope.tasks.values() if t.has_state(TaskState.NOT_FINISHED_MASK)]:
        if task.id in scope.tasks and task.has_state(TaskState.NOT_FINISHED_MASK) \
                and not _related(task, subprocess_task):
            task.cancel()


def _related(task: Task, other: Task) -> bool:
    """Tell whether ``task`` is ``other``, one of its ancestors or one of its descendants."""
    return task is other or task.is_descendant_of(other) or other.is_descendant_of(task)


def release_idle_event_subprocesses(workflow: BpmnWorkflow) -> bool:
    """Let a scope end when only event subprocesses waiting for their start are left in it.

    Event subprocesses with a timer or none start are running from the start of their scope in
    SpiffWorkflow 3.2, and the scope's end join waits for them; in BPMN an event subprocess
    that has not started (or a cycle's next occurrence) holds nothing up, while one whose flow
    runs does. Tell whether any was released.
    """
    released = False
    for scope in [workflow, *workflow.subprocesses.values()]:
        if scope.completed or not any(is_event_subprocess(t) for t in scope.task_tree.children):
            continue  # no event subprocess hangs from this scope's start
        idle, live = [], False
        for task in scope.tasks.values():
            if not task.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR):
                continue
            if is_event_subprocess(task) and _is_idle(workflow, task):
                idle.append(task)
            elif not isinstance(task.task_spec, _EndJoin):
                live = True
                break
        if idle and not live:
            for task in idle:
                task.cancel()
            for task in [t for t in scope.tasks.values() if t.state == TaskState.WAITING]:
                task.task_spec._update(task)
            released = True
    return released


def is_event_subprocess(task: Task) -> bool:
    """Tell whether ``task`` is an event subprocess (SpiffWorkflow 3.2 parses them as plain
    subprocesses hanging from the scope's start task)."""
    parent = task.parent
    return isinstance(task.task_spec, SubWorkflowTask) and parent is not None and parent.parent is None


def _is_idle(workflow: BpmnWorkflow, subprocess_task: Task) -> bool:
    """Tell whether an event subprocess only waits for its start event (a cycle's next occurrence
    included): nothing in it runs, waits for a person or waits for another event."""
    sub = workflow.subprocesses.get(subprocess_task.id)
    if sub is None:
        return True
    for task in sub.tasks.values():
        if not task.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR):
            continue
        waiting_start = task.state == TaskState.WAITING and isinstance(task.task_spec, StartEvent)
        if not (waiting_start or (task.state == TaskState.WAITING and isinstance(task.task_spec, _EndJoin))):
            return False
    return True


class EventSubprocessAwareStartEventParser(SpiffStartEventParser):
    """Parse start events; an event subprocess's start is interrupting unless ``isInterrupting="false"``.

    SpiffWorkflow 3.2 reads error and escalation start events of event subprocesses as none
    start events (the event subprocess ran at once, when its scope started); here they wait
    for their error or escalation. Start events a process cannot be started by are refused.
    """

    def create_task(self) -> Any:
        parent = self.node.getparent()
        in_event_subprocess = (parent is not None and parent.tag == full_tag("subProcess")
                               and parent.get("triggeredByEvent", "false").lower() == "true")
        interrupting = self.node.get("isInterrupting", "true").lower() != "false"
        if in_event_subprocess and interrupting:
            self.spec_class = InterruptingStartEvent
        kinds = [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH]
        if in_event_subprocess:
            kinds += [ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH]
            self._refuse_nested_trigger(parent)
        else:
            self._refuse_top_level_start()
        task = self._create_task(self.get_event_definition(kinds))
        self.spec.start.connect(task)
        if in_event_subprocess and not interrupting:
            return task  # a cycle here starts the event subprocess's flow at every occurrence
        return _adapt_event_definition(task)


    def _refuse_nested_trigger(self, event_subprocess: Any) -> None:
        """SpiffWorkflow 3.2 starts event subprocesses by an event only at the top of a process: one
        inside an embedded subprocess would never start (an error thrown there was lost)."""
        scope = event_subprocess.getparent()
        nested = scope is not None and scope.tag != full_tag("process")
        if nested and not self.xpath("./bpmn:timerEventDefinition") and len(self.node):
            triggered = [etree.QName(c).localname for c in self.node if etree.QName(c).localname.endswith("Definition")]
            if triggered:
                self.raise_validation_exception(
                    f"an event subprocess inside a subprocess can only start on a timer ({triggered[0]} here would "
                    f"never start it): move it to the top of the process, or catch the event with a boundary "
                    f"event on the subprocess")

    def _refuse_top_level_start(self) -> None:
        for kind in ("error", "escalation", "compensate", "cancel"):
            if self.xpath(f"./bpmn:{kind}EventDefinition"):
                self.raise_validation_exception(f"a {kind} start event can only start an event subprocess; start "
                                                f"the process with a none, message, signal or timer start event")
        if self.xpath("./bpmn:conditionalEventDefinition"):
            self.raise_validation_exception("a conditional start event of a process is not supported (nothing "
                                            "would ever evaluate it); start the process with a message or signal "
                                            "start event, or put the condition in a conditional event subprocess")


class CheckedEventGatewayParser(EventBasedGatewayParser):
    """Parse event-based gateways, refusing the branches SpiffWorkflow 3.2 cannot wait for correctly."""

    def parse_node(self) -> Any:
        task = super().parse_node()
        if self.node.get("instantiate", "false").lower() == "true":
            self.raise_validation_exception("an instantiating event-based gateway (instantiate=\"true\") is not "
                                            "supported; start the process with a message or timer start event")
        definitions = self.task.event_definition.event_definitions
        timers = [d for d in definitions if isinstance(d, TimerEventDefinition)]
        if len(timers) > 1:
            self.raise_validation_exception("an event-based gateway may wait for one timer only (SpiffWorkflow 3.2 "
                                            "gives all of them the first one's due time); keep the earliest")
        if any(isinstance(d, ConditionalEventDefinition) for d in definitions):
            self.raise_validation_exception("a conditional event after an event-based gateway is not supported; "
                                            "use a conditional boundary event or intermediate catch event")
        return task


class SignalEndEventParser(SpiffEndEventParser):
    """Parse end events with their signal: SpiffWorkflow 3.2 reads a signal end event as a none end
    event, and the signal would never be thrown."""

    def create_task(self) -> Any:
        event_definition = self.get_event_definition([MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, CANCEL_EVENT_XPATH,
                                                      ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
                                                      TERMINATION_EVENT_XPATH])
        if isinstance(event_definition, BpmnErrorEventDefinition):
            self.spec_class = ErrorEndEvent
        task = self._create_task(event_definition)
        task.connect(self.spec.end)
        return task


class ErrorEndEvent(EndEvent):
    """An error end event whose error nothing catches fails (an incident naming it and its code).

    SpiffWorkflow 3.2 ends such a process or subprocess as if the end event were a none end
    event: the error is lost and the flow after the subprocess goes on as if all went well.
    """

    def _run_hook(self, my_task: Task) -> Any:
        top = my_task.workflow.top_workflow
        before = list(top.bpmn_events)
        result = super()._run_hook(my_task)
        lost = [e for e in top.bpmn_events if e not in before
                and isinstance(e.event_definition, BpmnErrorEventDefinition)]
        if lost:
            for event in lost:
                top.bpmn_events.remove(event)
            code = lost[0].event_definition.code or lost[0].event_definition.name
            raise WorkflowTaskException(f"error {code!r} thrown by end event {my_task.task_spec.bpmn_id!r} is "
                                        f"caught by no error boundary event or event subprocess", task=my_task)
        return result


class AftersalesParser(SpiffBpmnParser):
    """The spiff dialect parser, with service tasks bound to the handler registry and link events."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, HandlerServiceTask),
        full_tag("intermediateThrowEvent"): (LinkAwareThrowEventParser, IntermediateThrowEvent),
        full_tag("eventBasedGateway"): (CheckedEventGatewayParser, EventBasedGateway),
        full_tag("intermediateCatchEvent"): (CycleAwareCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (CycleAwareBoundaryEventParser, BoundaryEvent),
        full_tag("startEvent"): (EventSubprocessAwareStartEventParser, StartEvent),
        full_tag("endEvent"): (SignalEndEventParser, EndEvent),
    }


class AftersalesScriptEngine(PythonScriptEngine):
    """The script engine of one trigger: sandboxed scripts plus the handler runner."""

    def __init__(self, services: ServiceRunner) -> None:
        super().__init__(environment=RestrictedEnvironment())
        self.services = services


# --- serialization: specs by reference; a workflow's shells and tasks apart --------------
#
# A workflow's JSON is the same as SpiffWorkflow's own, minus the specs. The store writes
# it in pieces (:mod:`engine.state_log`): each workflow's "shell" (its data, correlations,
# events … without its tasks) and each task on its own, so that a trigger writes only the
# pieces it changed. :func:`dump_workflow` is the whole document in one piece.

_SPECS: ContextVar[dict[str, Any]] = ContextVar("aftersales_specs")
_SHELL: ContextVar[bool] = ContextVar("aftersales_shell", default=False)


def _workflow_dict(converter: WorkflowConverter, workflow: Any) -> dict[str, Any]:
    dct = {
        "data": converter.registry.convert(converter.registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "root": str(workflow.task_tree.id),
    }
    if not _SHELL.get():
        dct["tasks"] = converter.mapping_to_dict(workflow.tasks)
    return dct


class ShellSubWorkflowConverter(BpmnSubWorkflowConverter):
    """Serialize a subprocess, or only its shell while :data:`_SHELL` is set."""

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
        if not _SHELL.get():
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
    config[LinkThrowEvent] = BpmnTaskSpecConverter
    config[FirstCycleTimerEventDefinition] = TimerConditionalEventDefinitionConverter
    config[InterruptingStartEvent] = config[StartEvent]
    config[ErrorEndEvent] = config[EndEvent]
    config[RearmingBoundaryEvent] = config[BoundaryEvent]
    config[DataConditionalEventDefinition] = TimerConditionalEventDefinitionConverter
    spec_registry = BpmnWorkflowSerializer.configure(dict(config))
    # Restored specs get the non-mutating start task; stored specs keep SpiffWorkflow's typename.
    BpmnStartTaskConverter(SharedSpecStartTask, spec_registry, typename="BpmnStartTask")
    spec_serializer = BpmnWorkflowSerializer(spec_registry)
    config[BpmnWorkflow] = SpecRefWorkflowConverter
    config[BpmnSubWorkflow] = ShellSubWorkflowConverter
    state_registry = BpmnWorkflowSerializer.configure(config)
    _register_data_types(state_registry)
    return BpmnWorkflowSerializer(state_registry), spec_serializer


def _register_data_types(registry: Any) -> None:
    """Let task data hold dates and decimals (SpiffWorkflow 3.2 knows only datetime and timedelta).

    ``datetime`` is a ``date`` too, so the registry's lookup by exact class keeps them apart.
    """
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))


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


class StateEncoder:
    """JSON text of a workflow's pieces; use as a context manager around a batch of calls."""

    def __enter__(self) -> StateEncoder:
        self._token = _SHELL.set(True)
        _STATE.registry._encoder_mode = True
        return self

    def __exit__(self, *exc: object) -> None:
        _STATE.registry._encoder_mode = False
        _SHELL.reset(self._token)

    def shell(self, workflow: Any) -> str:
        """Return a workflow's or subprocess's JSON without its tasks (and subprocesses)."""
        dct = _STATE.registry.convert(workflow)
        if workflow.parent_task_id is None:
            dct[_STATE.VERSION_KEY] = _STATE.VERSION
        return json.dumps(dct, cls=_STATE._encoder_cls)

    def task(self, task: Task) -> str:
        """Return one task's JSON."""
        return json.dumps(_STATE.registry.convert(task), cls=_STATE._encoder_cls)


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's whole state (without specs) to one JSON document."""
    return _STATE.serialize_json(workflow)


def workflow_from_document(document: dict[str, Any], specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from a parsed state document (consumed) and the deployment's specs."""
    token = _SPECS.set(specs)
    try:
        _STATE.migrate(document)
        return _STATE.from_dict(document)
    finally:
        _SPECS.reset(token)


def load_workflow(state: str, specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_workflow` output and the deployment's specs."""
    return workflow_from_document(json.loads(state), specs)


def new_workflow(spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Create a fresh workflow for ``spec``.

    A timer start event of the process has fired already: its schedule started this instance
    (:mod:`engine.scheduled_starts`), or somebody started it by hand.
    """
    workflow = BpmnWorkflow(spec, subprocess_specs)
    timer_starts = {ts.name for ts in top_level_timer_starts(spec)}
    for task in workflow.tasks.values():
        if task.task_spec.name in timer_starts:
            task.internal_data["event_fired"] = True
    return workflow


def top_level_timer_starts(spec: Any) -> list[Any]:
    """Return the timer start events of a process (not of its event subprocesses)."""
    return [ts for ts in spec.task_specs.values()
            if isinstance(ts, StartEvent) and isinstance(ts.event_definition, TimerEventDefinition)]
