"""One instance drawn on its diagram: completed elements, flows taken, tokens, failures.

The instance's own deployment version is used throughout (its files and specs), so an
instance started before a redeploy is traced on the diagram it ran on. Each *scope* is
one diagram: the process itself (its embedded subprocesses drawn inside it, as bpmn-js
does), and one per call of a call activity (the called process's diagram).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import store
from .diagram import Graph
from .errors import NotFound
from .models import Deployment, Incident, Instance
from .privacy import mask_personal
from .rollup_elements import deployment_graphs
from .trace import ENDS, TrailEvent, before_and_after, data_as_of, runs_of, trail_of

REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
STATUS = {TaskState.COMPLETED: "completed", TaskState.READY: "ready", TaskState.WAITING: "waiting",
          TaskState.STARTED: "active", TaskState.ERROR: "failed"}
RANK = {"failed": 4, "ready": 3, "waiting": 3, "active": 2, "completed": 1}


@dataclass
class Scope:
    """One diagram of the trace and what happened on it."""

    key: str
    process_id: str
    file: str
    parent: str | None = None
    called_from: str | None = None  # the call activity's element id in the parent scope
    elements: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: set[str] = field(default_factory=set)
    calls: dict[str, list[str]] = field(default_factory=dict)
    task_ids: set[str] = field(default_factory=set)

    def mark(self, element_id: str, status: str, task: Task) -> None:
        """Record that a task of ``element_id`` is (or was) in ``status``."""
        info = self.elements.setdefault(element_id, {"status": status, "tasks": 0, "completed": 0})
        info["tasks"] += 1
        info["completed"] += status == "completed"
        if RANK[status] > RANK[info["status"]]:
            info["status"] = status
        self.task_ids.add(str(task.id))

    def to_dict(self) -> dict[str, Any]:
        """Return the scope as JSON-able data."""
        return {"key": self.key, "process_id": self.process_id, "file": self.file, "parent": self.parent,
                "called_from": self.called_from, "elements": self.elements, "flows": sorted(self.flows),
                "calls": self.calls}


def _bpmn_parent(task: Task) -> Task | None:
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent


def _was_reached(task: Task) -> bool:
    if task.state & REACHED:
        return True
    # the token of a parallel/inclusive branch that reached a join the other branch fired
    parent = _bpmn_parent(task)
    return (task.state == TaskState.CANCELLED and isinstance(task.task_spec, Join)
            and parent is not None and parent.state == TaskState.COMPLETED)


class _Tracer:
    def __init__(self, workflow: Any, graphs: dict[str, Graph], root_process: str) -> None:
        self.top = workflow
        self.graphs = graphs
        root_graph = graphs.get(root_process)
        self.scopes: dict[str, Scope] = {"root": Scope("root", root_process, root_graph.file if root_graph else "")}
        self.tokens: list[dict[str, Any]] = []

    def scope_of(self, wf: Any) -> Scope:
        if wf is self.top or wf.parent_task_id is None:
            return self.scopes["root"]
        caller = self.top.get_task_from_id(wf.parent_task_id)
        parent_scope = self.scope_of(caller.workflow)
        if not isinstance(caller.task_spec, CallActivity):
            return parent_scope  # an embedded subprocess is drawn on its parent's diagram
        key = str(caller.id)
        if key not in self.scopes:
            graph = self.graphs.get(wf.spec.name)
            self.scopes[key] = Scope(key, wf.spec.name, graph.file if graph else "", parent_scope.key,
                                     caller.task_spec.bpmn_id)
            parent_scope.calls.setdefault(caller.task_spec.bpmn_id, []).append(key)
        return self.scopes[key]

    def run(self) -> None:
        workflows = [self.top, *self.top.subprocesses.values()]
        for wf in workflows:
            scope = self.scope_of(wf)
            graph = self.graphs.get(wf.spec.name) or self.graphs.get(scope.process_id)
            for task in wf.tasks.values():
                element = task.task_spec.bpmn_id
                if element is None or not _was_reached(task):
                    continue
                status = STATUS.get(task.state)
                if status is not None:
                    scope.mark(element, status, task)
                    if status != "completed":
                        self.tokens.append({"scope": scope.key, "element_id": element, "state": status,
                                            "task_id": str(task.id),
                                            "name": task.task_spec.bpmn_name or element})
                parent = _bpmn_parent(task)
                if graph is not None and parent is not None and parent.state == TaskState.COMPLETED:
                    scope.flows.update(graph.flows_between(parent.task_spec.bpmn_id, element))


def instance_trace(session: Session, specs: store.SpecCache, instance_id: int, reveal: bool) -> dict[str, Any]:
    """Return everything the trace page draws: scopes with markers, tokens, runs and the timeline."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    deployment = session.get(Deployment, instance.deployment_id)
    assert deployment is not None
    graphs = deployment_graphs(session, instance.deployment_id)  # parsed once per deployment
    tracer = _Tracer(store.read_workflow(session, instance, specs), graphs, instance.process_id)
    tracer.run()
    events = trail_of(session, instance_id)
    incidents = list(session.scalars(select(Incident).where(Incident.instance_id == instance_id)
                                     .order_by(Incident.id)))
    scope_of_task = {tid: s.key for s in tracer.scopes.values() for tid in s.task_ids}
    runs = []
    for scope in tracer.scopes.values():
        graph = graphs.get(scope.process_id)
        mine = [e for e in events if e.kind in ENDS
                or e.task_id and scope_of_task.get(e.task_id, "root") == scope.key]
        for run in runs_of(mine, graph):
            runs.append({**run.to_dict(), "scope": scope.key})
    for inc in incidents:
        if inc.status != "resolved":
            scope = tracer.scopes.get(scope_of_task.get(inc.task_id, "root"), tracer.scopes["root"])
            scope.elements.setdefault(inc.element_id, {"status": "failed", "tasks": 1, "completed": 0})
            scope.elements[inc.element_id]["status"] = "failed"
    clean = (lambda d: d) if reveal else mask_personal  # noqa: E731
    return {
        "instance": {"id": instance.id, "business_key": instance.business_key, "process_id": instance.process_id,
                     "status": instance.status, "deployment_id": deployment.id, "bundle": deployment.name,
                     "version": deployment.version, "content_hash": deployment.content_hash,
                     "started_at": instance.started_at.isoformat(), "started_by": instance.started_by,
                     "ended_at": instance.ended_at.isoformat() if instance.ended_at else None,
                     "audit_events": instance.audit_seq},
        "masked": not reveal,
        "scopes": [s.to_dict() for s in tracer.scopes.values()],
        "tokens": tracer.tokens,
        "runs": runs,
        "incidents": [{"id": i.id, "element_id": i.element_id, "element_name": i.element_name,
                       "scope": scope_of_task.get(i.task_id, "root"), "status": i.status,
                       "attempts": i.attempts, "error_type": i.error_type, "message": i.message}
                      for i in incidents],
        "timeline": [event_view(e, scope_of_task.get(e.task_id or ""), clean) for e in events],
        "data": clean(data_as_of(events)),
    }


def event_view(event: TrailEvent, scope: str | None = None, clean: Any = mask_personal) -> dict[str, Any]:
    """Return one audit event as the timeline shows it."""
    data = event.data or {}
    return {"seq": event.seq, "at": event.at.isoformat(timespec="microseconds"), "actor": event.actor,
            "kind": event.kind, "task_id": event.task_id, "element_id": event.element_id,
            "name": data.get("name") or data.get("message") or "", "scope": scope, "data": clean(data)}


def element_detail(session: Session, instance_id: int, element_id: str, reveal: bool,
                   task_ids: list[str] | None = None) -> dict[str, Any]:
    """Return every run of one element with who, when, and the data before and after it."""
    events = trail_of(session, instance_id)
    instance = session.get(Instance, instance_id)
    assert instance is not None  # trail_of said so
    graph = deployment_graphs(session, instance.deployment_id).get(instance.process_id)
    clean = (lambda d: d) if reveal else mask_personal  # noqa: E731
    out = []
    for run in runs_of(events, graph):  # as the trace's runs: arrivals and boundary events on its diagram
        if run.element_id != element_id or (task_ids and run.task_id not in task_ids):
            continue
        item = run.to_dict()
        if run.seq is not None:
            before, after = before_and_after(events, run.seq)
            event = next(e for e in events if e.seq == run.seq)
            item.update(before=clean(before), after=clean(after),
                        delta=clean((event.data or {}).get("delta") or {}),
                        form=clean((event.data or {}).get("form")))
        item["events"] = [event_view(e, None, clean) for e in events if e.task_id == run.task_id]
        out.append(item)
    return {"instance_id": instance_id, "element_id": element_id, "masked": not reveal, "runs": out}


def data_at_step(session: Session, instance_id: int, seq: int, reveal: bool) -> dict[str, Any]:
    """Return the instance data as it was right after audit event ``seq``."""
    events = trail_of(session, instance_id)
    if not events or seq < 1 or seq > events[-1].seq:
        raise NotFound("instance {instance_id} has no audit event {seq}",
                       params={"instance_id": instance_id, "seq": seq})
    data = data_as_of(events, seq)
    return {"instance_id": instance_id, "seq": seq, "at": events[seq - 1].at.isoformat(),
            "masked": not reveal, "data": data if reveal else mask_personal(data)}
