"""Moving many running instances at once: pick them, dry-run each, then move each in its own trigger.

Picking filters the running instances by process, version, status, stage, a waiting
element and age. Each instance gets its own verdict (:func:`engine.instance_migration.plan`):
ok, or refused naming the elements the target version lacks; a refused instance is left
exactly as it was and finishes on its own version. The batch is one ``instances.migrated``
event on the deployments' audit stream besides each instance's own ``instance.migrated``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from . import clock
from .audit import PendingEvent, write_system_event
from .db import Database
from .errors import AftersalesError, InvalidInput
from .instance_migration import migrate
from .models import Deployment, Instance, WorkItem

RUNNING = ("active", "incident")
MAX_BATCH = 500
_ELEMENT = re.compile(r"element '([^']+)'")


def pick(session: Session, process_id: str | None = None, deployment_id: int | None = None,
         status: str | None = None, stage: str | None = None, element_id: str | None = None,
         older_than_days: int | None = None, limit: int = MAX_BATCH) -> list[dict[str, Any]]:
    """Return the running instances matching the filters, the oldest first."""
    if status is not None and status not in RUNNING:
        raise InvalidInput("status is one of {running} (only running tickets move)",
                           field="status", params={"running": ", ".join(RUNNING)})
    query = (select(Instance, Deployment.name, Deployment.version)
             .join(Deployment, Deployment.id == Instance.deployment_id)
             .where(Instance.status.in_([status] if status else RUNNING)))
    if process_id:
        query = query.where(Instance.process_id == process_id)
    if deployment_id is not None:
        query = query.where(Instance.deployment_id == deployment_id)
    if stage:
        query = query.where(Instance.summary["stage"].as_string() == stage)
    if element_id:
        query = query.where(exists().where(WorkItem.instance_id == Instance.id, WorkItem.element_id == element_id))
    if older_than_days is not None:
        query = query.where(Instance.started_at <= clock.now() - timedelta(days=older_than_days))
    rows = session.execute(query.order_by(Instance.started_at, Instance.id).limit(limit)).all()
    waiting: dict[int, list[str]] = {}
    ids = [inst.id for inst, _, _ in rows]
    for instance_id, element in session.execute(select(WorkItem.instance_id, WorkItem.element_id)
                                                .where(WorkItem.instance_id.in_(ids))):
        waiting.setdefault(instance_id, []).append(element)
    return [{"id": inst.id, "ticket": inst.business_key, "process_id": inst.process_id,
             "deployment_id": inst.deployment_id, "bundle": name, "version": version, "status": inst.status,
             "stage": (inst.summary or {}).get("stage"), "current": (inst.summary or {}).get("current") or [],
             "waiting_at": sorted(waiting.get(inst.id, [])), "started_at": _iso(inst.started_at)}
            for inst, name, version in rows]


def _iso(value: datetime) -> str:
    return value.isoformat()


def _verdict(instance_id: int, plan: Any = None, error: AftersalesError | None = None,
             moved: bool = False) -> dict[str, Any]:
    if error is not None:
        return {"instance_id": instance_id, "ok": False, "moved": False, "problems": [error.message],
                "element_ids": sorted(set(_ELEMENT.findall(error.message)))}
    problems = list(plan.problems)
    return {"instance_id": instance_id, "ok": plan.ok, "moved": moved, "from_deployment": plan.from_deployment,
            "to_deployment": plan.to_deployment, "active": plan.active, "problems": problems,
            "element_ids": sorted({e for p in problems for e in _ELEMENT.findall(p)})}


def check_batch(instance_ids: Any, to_deployment_id: Any) -> tuple[list[int], int]:
    """Refuse a malformed batch: ids must be a non-empty list of instance numbers, the target a number."""
    if (not isinstance(instance_ids, list) or not instance_ids or len(instance_ids) > MAX_BATCH
            or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in instance_ids)):
        raise InvalidInput("instance_ids is a list of 1 to {max_batch} instance numbers",
                           field="instance_ids", params={"max_batch": MAX_BATCH})
    if not isinstance(to_deployment_id, int) or isinstance(to_deployment_id, bool) or to_deployment_id <= 0:
        raise InvalidInput("to_deployment_id is the number of a deployed version", field="to_deployment_id")
    return list(dict.fromkeys(instance_ids)), to_deployment_id


def migrate_batch(database: Database, runtime: Any, instance_ids: Any, to_deployment_id: Any, actor: str,
                  dry_run: bool) -> list[dict[str, Any]]:
    """Dry-run (or move) each instance in its own transaction; return one verdict per instance."""
    ids, target = check_batch(instance_ids, to_deployment_id)
    with database.transaction(write=False) as session:
        if session.get(Deployment, target) is None:
            raise InvalidInput("deployment {target} does not exist",
                               field="to_deployment_id", params={"target": target})
    verdicts = []
    for instance_id in ids:
        try:
            with database.transaction(write=not dry_run) as session:
                plan = migrate(session, runtime, instance_id, target, actor, dry_run=True)
                if plan.ok and not dry_run:
                    migrate(session, runtime, instance_id, target, actor)
            verdicts.append(_verdict(instance_id, plan, moved=plan.ok and not dry_run))
        except AftersalesError as exc:  # unknown instance, or the move failed: nothing of it was written
            verdicts.append(_verdict(instance_id, error=exc))
    if not dry_run:
        with database.transaction() as session:
            write_system_event(session, PendingEvent("instances.migrated", actor, clock.now(), {
                "to_deployment": target, "moved": [v["instance_id"] for v in verdicts if v["moved"]],
                "refused": {str(v["instance_id"]): v["problems"] for v in verdicts if not v["moved"]}}),
                "deployments")
    return verdicts
