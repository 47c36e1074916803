"""Moving running instances to another deployment: explicit, dry-run first, audited.

An instance's state names its task specs; it can move to a deployment in which every
one of them (finished ones too, so no history is lost) still exists. The running part
of the tree is re-predicted against the new diagram; the move is one trigger with an
``instance.migrated`` audit event naming both versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import clock, store
from .errors import Conflict, InvalidInput, NotFound
from .models import Deployment, Instance
from .runtime import Runtime
from .trigger import Trigger

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass
class MigrationPlan:
    """What moving one instance would do, or why it cannot."""

    instance_id: int
    from_deployment: int
    to_deployment: int
    active: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether the instance can move."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as JSON-able data."""
        return {"instance_id": self.instance_id, "from_deployment": self.from_deployment,
                "to_deployment": self.to_deployment, "ok": self.ok, "active": self.active,
                "problems": self.problems}


def _task_dicts(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return (spec name of its workflow, task dict) for every task, subprocesses included."""
    found = [(state["spec"], t) for t in state["tasks"].values()]
    for sub in state.get("subprocesses", {}).values():
        found += [(sub["spec"], t) for t in sub["tasks"].values()]
    return found


def plan(session: Session, runtime: Runtime, instance_id: int, to_deployment: int) -> MigrationPlan:
    """Check whether an instance can move to ``to_deployment`` and list its active elements."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    if session.get(Deployment, to_deployment) is None:
        raise NotFound("deployment {to_deployment} does not exist", params={"to_deployment": to_deployment})
    result = MigrationPlan(instance_id, instance.deployment_id, to_deployment)
    if instance.deployment_id == to_deployment:
        result.problems.append(f"instance {instance_id} already runs on deployment {to_deployment}")
    if instance.status in ("completed", "cancelled"):
        result.problems.append(f"instance {instance_id} has ended ({instance.status})")
    specs = runtime.specs.get(session, to_deployment)
    if instance.process_id not in specs:
        result.problems.append(f"deployment {to_deployment} has no process {instance.process_id!r}")
        return result
    state = store.state_document(session, instance)
    for workflow_spec, task in _task_dicts(state):
        spec = specs.get(workflow_spec)
        name = task["task_spec"]
        if spec is None:
            result.problems.append(f"subprocess {workflow_spec!r} no longer exists")
        elif name not in spec.task_specs:
            where = "a finished element" if task["state"] & TaskState.FINISHED_MASK else "an active element"
            result.problems.append(f"{where} {name!r} of {workflow_spec!r} no longer exists")
        if task["state"] & ACTIVE and spec is not None:
            result.active.append(name)
    result.problems = sorted(set(result.problems))
    return result


def migrate(session: Session, runtime: Runtime, instance_id: int, to_deployment: int, actor: str,
            dry_run: bool = False) -> MigrationPlan:
    """Move an instance to another deployment (after a successful :func:`plan`), or only plan it."""
    result = plan(session, runtime, instance_id, to_deployment)
    if dry_run:
        return result
    if not result.ok:
        raise Conflict("instance {instance_id} cannot move to deployment {to_deployment}: {problems}",
                       problems=result.problems, params={"instance_id": instance_id, "to_deployment": to_deployment,
                                                         "problems": "; ".join(result.problems)})
    instance = store.lock_instance(session, instance_id)
    runtime.instances.take(instance.id, instance.version)  # drop any cached copy on the old specs
    specs = runtime.specs.get(session, to_deployment)
    try:
        workflow = store.load(session, instance, specs)
    except Exception as exc:  # a spec the plan could not foresee (e.g. changed structure)
        raise InvalidInput("instance {instance_id} cannot be loaded on deployment {to_deployment}: {exc}",
                           params={"instance_id": instance_id, "to_deployment": to_deployment, "exc": exc}) from exc
    workflow.subprocess_specs = {n: specs[n] for n in runtime.specs.dependencies(session, to_deployment,
                                                                                 instance.process_id)}
    _repredict(workflow)
    trigger = Trigger(runtime, session, instance, workflow, actor, clock.now())
    trigger.audit("instance.migrated", {"from_deployment": result.from_deployment, "to_deployment": to_deployment,
                                        "active": result.active})
    instance.deployment_id = to_deployment
    trigger.finish()
    return result


def _repredict(workflow: Any) -> None:
    """Re-derive the predicted future of every active task from the new diagram."""
    workflows = [workflow, *workflow.subprocesses.values()]
    for wf in workflows:
        for task in list(wf.tasks.values()):
            if task.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED):
                task._drop_children()
                task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.DEFINITE_MASK)
