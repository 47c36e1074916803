"""Separation of duties (four eyes): whoever did an earlier task of an instance may not do a later one.

A user task declares it in the model, as a spiffworkflow extension property naming one or more
earlier human tasks of the same process (ids separated by commas)::

    <spiffworkflow:property name="excludePerformersOf" value="propose_solution"/>

Whoever completed the latest run of a named task in the instance may not claim the task, complete
it, or be given it by a reassignment (:func:`check_performer`). Only the latest run counts: when an
approval sends a proposal back and someone else proposes again, the first proposer may approve the
new proposal. The rules are read from the deployment's frozen specs, cached by its content hash
(deployments never change) for the pages, and from the runtime's spec cache for a claim, a completion or a
reassignment (no statement more for a task without a rule).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import DutiesSeparated, InvalidInput
from .models import AuditEvent, Deployment, Instance, WorkItem

#: the extension property of a user task that names the earlier tasks its performer must not have done
PROPERTY = "excludePerformersOf"


@dataclass(frozen=True)
class Rule:
    """The earlier tasks (element id → display name) whose performer may not do a task."""

    excluded: dict[str, str]


@dataclass(frozen=True)
class Conflict:
    """Why a user may not do a task: they completed this earlier task (element id, display name) of the instance."""

    element_id: str
    name: str


def excluded_ids(value: str | None) -> list[str]:
    """Return the task ids a property value names (comma or space separated, blanks dropped)."""
    return [part for part in (value or "").replace(",", " ").split() if part]


def rules_of(specs: dict[str, Any]) -> dict[str, Rule]:
    """Return each user task's rule (by element id) from a deployment's serialized specs."""
    rules: dict[str, Rule] = {}
    for spec in specs.values():
        tasks = spec.get("task_specs") or {}
        for name, task in tasks.items():
            props = ((task.get("extensions") or {}).get("properties") or {})
            ids = excluded_ids(props.get(PROPERTY))
            if ids:
                rules[name] = Rule({i: (tasks.get(i) or {}).get("bpmn_name") or i for i in ids})
    return rules


def rule_in(specs: Mapping[str, Any], element_id: str) -> Rule | None:
    """Return a task's rule from restored process specs (the runtime's spec cache), or None."""
    for spec in specs.values():
        task = spec.task_specs.get(element_id)
        props = ((getattr(task, "extensions", None) or {}).get("properties") or {}) if task is not None else {}
        ids = excluded_ids(props.get(PROPERTY))
        if ids:
            return Rule({i: getattr(spec.task_specs.get(i), "bpmn_name", None) or i for i in ids})
    return None


_rules: dict[str, dict[str, Rule]] = {}  # content hash of a deployment → its rules
_rules_lock = threading.Lock()


def rules_for(session: Session, deployment_id: int) -> dict[str, Rule]:
    """Return the rules of a deployment (read once per content, then kept)."""
    content_hash = session.scalar(select(Deployment.content_hash).where(Deployment.id == deployment_id))
    if content_hash is None:
        return {}
    rules = _rules.get(content_hash)
    if rules is None:
        frozen = session.scalar(select(Deployment.specs).where(Deployment.id == deployment_id)) or {}
        rules = rules_of(frozen.get("specs") or {})
        with _rules_lock:
            _rules[content_hash] = rules
    return rules


def last_performers(session: Session, instance_id: int, element_ids: Iterable[str]) -> dict[str, str]:
    """Return who completed the latest run of each of ``element_ids`` in the instance (those done)."""
    found: dict[str, str] = {}
    rows = session.execute(select(AuditEvent.element_id, AuditEvent.actor).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind == "task.completed",
        AuditEvent.element_id.in_(list(element_ids))).order_by(AuditEvent.id.desc()))
    for element_id, actor in rows:
        if element_id is not None:
            found.setdefault(element_id, actor)
    return found


def excluded_performers(session: Session, item: WorkItem) -> dict[str, Conflict]:
    """Return who may not do the work item (by user name), each with the earlier task they did."""
    deployment_id = session.scalar(select(Instance.deployment_id).where(Instance.id == item.instance_id))
    rule = rules_for(session, deployment_id).get(item.element_id) if deployment_id is not None else None
    return excluded_by(session, item, rule)


def excluded_by(session: Session, item: WorkItem, rule: Rule | None) -> dict[str, Conflict]:
    """Return who may not do the work item under ``rule`` (by user name), each with the earlier task they did."""
    if rule is None:
        return {}
    performers = last_performers(session, item.instance_id, rule.excluded)
    found: dict[str, Conflict] = {}
    for element_id, name in rule.excluded.items():
        if element_id in performers:
            found.setdefault(performers[element_id], Conflict(element_id, name))
    return found


def conflict_of(session: Session, item: WorkItem, username: str) -> Conflict | None:
    """Return the earlier task ``username`` completed that bars them from the work item, or None."""
    return excluded_performers(session, item).get(username)


def barred_items(session: Session, items: list[WorkItem], username: str) -> dict[str, Conflict]:
    """Return, by task id, the work items of ``items`` that ``username`` may not do, and why.

    One query for the items' deployments, one per deployment (its content hash), and one per item
    whose task has a rule: a tasklist page asks this for its rows.
    """
    if not items:
        return {}
    deployments: dict[int, int] = {instance_id: deployment_id for instance_id, deployment_id in session.execute(
        select(Instance.id, Instance.deployment_id).where(Instance.id.in_({item.instance_id for item in items})))}
    rules = {d: rules_for(session, d) for d in set(deployments.values())}
    barred: dict[str, Conflict] = {}
    for item in items:
        rule = rules.get(deployments.get(item.instance_id, -1), {}).get(item.element_id)
        found = excluded_by(session, item, rule).get(username) if rule is not None else None
        if found is not None:
            barred[item.task_id] = found
    return barred


def check_performer(session: Session, item: WorkItem, username: str, rule: Rule | None, *,
                    by: str | None = None) -> None:
    """Refuse ``username`` for the work item when they did an earlier task its ``rule`` excludes.

    ``by`` is who acts when that is someone else: a supervisor reassigning the task to ``username``,
    whose choice of user is then the request's fault (an :class:`InvalidInput` on ``assignee``). A
    task without a rule costs no statement.
    """
    found = excluded_by(session, item, rule).get(username)
    if found is None:
        return
    params = {"task": item.name, "element": found.name, "ticket": item.business_key or item.instance_id,
              "user": username}
    if by is None or by == username:
        raise DutiesSeparated("you completed '{element}' of {ticket}; someone else must do '{task}' "
                              "(four-eyes rule)", task=item.task_id, earlier=found.element_id, params=params)
    raise InvalidInput("{user} completed '{element}' of {ticket}, so '{task}' must go to someone else "
                       "(four-eyes rule)", task=item.task_id, earlier=found.element_id, field="assignee",
                       params=params)
