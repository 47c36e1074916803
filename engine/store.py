"""Loading and saving instances: locks, the spec cache, the bounded instance cache, the state log.

Specs are restored once per deployment and shared read-only. Workflows are checked out
of a bounded LRU cache keyed by instance id and version: a trigger *takes* the cached
object (nobody else can touch it), and puts it back only after its transaction commits,
so a failed trigger never leaves a half-advanced workflow behind.

An instance's state is a log of ``instance_state`` rows (:mod:`engine.state_log`): a
save appends what the trigger changed, in the trigger's transaction, after the instance
row's optimistic version check; ``instance.state_seq`` names the last row, so a load
knows it has them all.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Integer, bindparam, delete, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import spiff, state_log
from .db import after_commit, is_sqlite
from .driver_sql import Prepared
from .errors import NotFound
from .models import Deployment, Instance, InstanceState, WorkItem


class SpecCache:
    """Restored process specs per deployment (immutable, so cached for ever)."""

    def __init__(self) -> None:
        self._specs: dict[int, dict[str, Any]] = {}
        self._deps: dict[int, dict[str, list[str]]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, deployment_id: int) -> dict[str, Any]:
        """Return ``{spec name: spec}`` for a deployment."""
        specs = self._specs.get(deployment_id)
        if specs is None:
            deployment = session.get(Deployment, deployment_id)
            if deployment is None:
                raise NotFound("deployment {deployment_id} does not exist", params={"deployment_id": deployment_id})
            specs = {name: spiff.spec_from_dict(d) for name, d in deployment.specs["specs"].items()}
            with self._lock:
                self._specs[deployment_id] = specs
                self._deps[deployment_id] = dict(deployment.specs["dependencies"])
        return specs

    def dependencies(self, session: Session, deployment_id: int, process_id: str) -> list[str]:
        """Return the names of the specs ``process_id`` calls (call activities, subprocesses)."""
        self.get(session, deployment_id)
        return list(self._deps[deployment_id].get(process_id, []))


class InstanceCache:
    """A bounded LRU of deserialized workflows, checked out by one trigger at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, instance_id: int, version: int) -> BpmnWorkflow | None:
        """Remove and return the cached workflow if it is at ``version``."""
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is not None and item[0] == version:
            self.hits += 1
            return item[1]
        self.misses += 1
        return None

    def put(self, instance_id: int, version: int, workflow: BpmnWorkflow) -> None:
        """Keep ``workflow`` as the state of the instance at ``version``."""
        if self.size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def advance(self, instance_id: int, version: int, to: int) -> None:
        """Keep the workflow cached at ``version`` as the instance's state at ``to`` as well: a committed
        write moved the row's version on without touching the workflow (a claim, an unclaim, a
        reassignment)."""
        with self._lock:
            item = self._items.get(instance_id)
            if item is not None and item[0] == version:
                self._items[instance_id] = (to, item[1])

    def clear(self) -> None:
        """Forget every cached workflow."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


#: the instance row by id, built once (a statement built per trigger costs more than the lookup)
_LOCK = select(Instance).where(Instance.id == bindparam("instance_id"))
_LOCK_FOR_UPDATE = _LOCK.with_for_update()


def lock_instance(session: Session, instance_id: int) -> Instance:
    """Load an instance row for update (row lock on PostgreSQL; SQLite writers are serialized)."""
    query = _LOCK if is_sqlite(session) else _LOCK_FOR_UPDATE
    instance = session.scalars(query, {"instance_id": instance_id}).one_or_none()
    if instance is None:
        raise NotFound("instance {instance_id} does not exist", params={"instance_id": instance_id})
    return instance


#: a work item with its instance row, locked as :func:`lock_instance` locks it (one statement, not two)
_ITEM = (select(WorkItem, Instance).join(Instance, Instance.id == WorkItem.instance_id)
         .where(WorkItem.task_id == bindparam("task_id")))
_ITEM_FOR_UPDATE = _ITEM.with_for_update(of=Instance)


def lock_work_item(session: Session, task_id: str) -> tuple[WorkItem, Instance] | None:
    """Load a work item and lock its instance's row as :func:`lock_instance` does; None if there is no such item."""
    row = session.execute(_ITEM if is_sqlite(session) else _ITEM_FOR_UPDATE, {"task_id": task_id}).one_or_none()
    return None if row is None else (row[0], row[1])


def checkout(session: Session, instance: Instance, specs: SpecCache, cache: InstanceCache) -> BpmnWorkflow:
    """Return the instance's workflow, from the cache when it is current."""
    workflow = cache.take(instance.id, instance.version)
    if workflow is None:
        workflow = load(session, instance, specs.get(session, instance.deployment_id))
    return workflow


def read_workflow(session: Session, instance: Instance, specs: SpecCache) -> BpmnWorkflow:
    """Deserialize a private copy of the instance's workflow for reading."""
    return load(session, instance, specs.get(session, instance.deployment_id))


def load(session: Session, instance: Instance, specs: dict[str, Any]) -> BpmnWorkflow:
    """Read the instance's state log and restore its workflow on ``specs``."""
    document, rows = _read(session, instance)
    saved = state_log.remember(document)
    workflow = spiff.workflow_from_document(document, specs)
    saved.seq = instance.state_seq
    saved.full_bytes = len(rows[0][2])
    saved.log_bytes, saved.deltas = sum(len(r[2]) for r in rows[1:]), len(rows) - 1
    state_log.attach(workflow, saved)
    return workflow


def state_document(session: Session, instance: Instance) -> dict[str, Any]:
    """Return the instance's whole state document (parsed JSON), folded from its state log."""
    return _read(session, instance)[0]


def _read(session: Session, instance: Instance) -> tuple[dict[str, Any], list[tuple[int, str, str]]]:
    rows: list[tuple[int, str, str]] = [(r.seq, r.kind, r.body) for r in session.execute(
        select(InstanceState.seq, InstanceState.kind, InstanceState.body)
        .where(InstanceState.instance_id == instance.id).order_by(InstanceState.seq))]
    seqs = [r[0] for r in rows]
    if not rows or rows[0][1] != state_log.FULL or seqs != list(range(seqs[0], instance.state_seq + 1)):
        found = ", ".join(f"{seq} {kind}" for seq, kind, _ in rows) or "none"
        raise NotFound("the stored state of instance {instance} is incomplete: it should end at row {state_seq} and "
                       "start with a full document; rows found: {found}",
                       instance=instance.id,
                       params={"instance": instance.id, "state_seq": instance.state_seq, "found": found})
    return state_log.document_of(rows), rows


def replace_state(session: Session, instance: Instance, document: dict[str, Any]) -> None:
    """Overwrite the instance's state with ``document`` (e.g. scrubbed of personal data), in full.

    The instance row's version moves on with it, so no cached copy of the old state is used again.
    """
    _append(session, instance, state_log.FULL, json.dumps(document))


def save(session: Session, instance: Instance, workflow: BpmnWorkflow, cache: InstanceCache) -> None:
    """Append what changed in the workflow to the instance's state log, write the instance row,
    flush, and cache the workflow once the transaction commits."""
    saved = state_log.saved_of(workflow)
    delta = state_log.record(workflow, saved)
    if delta is not None:
        if saved.wants_full(len(delta)):
            kind, body = state_log.FULL, state_log.full_text(saved)
        else:
            kind, body = state_log.DELTA, delta
        _append(session, instance, kind, body)
        saved.wrote(instance.state_seq, kind, len(body))
        if os.environ.get("AFTERSALES_VERIFY_STATE") == "1":
            _verify(workflow, saved)
    else:
        _write_instance(session, instance, None)
    instance_id, version = instance.id, instance.version
    after_commit(session, lambda: cache.put(instance_id, version, workflow))


def _append(session: Session, instance: Instance, kind: str, body: str) -> None:
    """Write row ``state_seq + 1``; a full row drops the rows before it. The instance row is
    updated first (on PostgreSQL in the same statement), so a concurrent writer fails on its
    version before writing anything."""
    seq = instance.state_seq + 1
    instance.state_seq = seq
    instance.serializer_version = spiff.SERIALIZER_VERSION
    _write_instance(session, instance, {"s_seq": seq, "s_kind": kind, "s_body": body})
    if kind == state_log.FULL and seq > 1:
        _SENT_DROP_BEFORE.execute(session, {"b_id": instance.id, "s_seq": seq})


_INSTANCE = Instance.__table__
#: every column a trigger may change (all but the key and the version), written from the object as it is
_WRITTEN = tuple(c.name for c in _INSTANCE.columns if c.name not in ("id", "version"))
#: the instance row's UPDATE with the optimistic version check, built once (the ORM's flush of one
#: row costs more than the statement)
_UPDATE = (update(_INSTANCE)
           .where(_INSTANCE.c.id == bindparam("b_id"), _INSTANCE.c.version == bindparam("b_version"))
           .values({**{c: bindparam(f"v_{c}", type_=_INSTANCE.c[c].type) for c in _WRITTEN},
                    "version": bindparam("b_version", type_=Integer) + 1}))
_STATE = InstanceState.__table__
_INSERT_STATE = insert(_STATE).values(instance_id=bindparam("b_id"), seq=bindparam("s_seq"),
                                      kind=bindparam("s_kind"), body=bindparam("s_body"))
#: PostgreSQL: the UPDATE feeds the state row's INSERT (a data-modifying CTE), so a stale version
#: writes neither; the row the INSERT returns tells which (the driver's row count does not)
_UPDATED = _UPDATE.returning(_INSTANCE.c.id).cte("updated")
_UPDATE_AND_INSERT = insert(_STATE).from_select(
    ["instance_id", "seq", "kind", "body"],
    select(_UPDATED.c.id, bindparam("s_seq", type_=_STATE.c.seq.type), bindparam("s_kind", type_=_STATE.c.kind.type),
           bindparam("s_body", type_=_STATE.c.body.type))).add_cte(_UPDATED).returning(_STATE.c.seq)
#: a full row makes the rows before it unneeded
_DROP_BEFORE = delete(_STATE).where(_STATE.c.instance_id == bindparam("b_id"), _STATE.c.seq < bindparam("s_seq"))
#: the same, compiled once per dialect and sent as the driver's SQL (each skips SQLAlchemy's per-call work)
_SENT_UPDATE, _SENT_INSERT_STATE, _SENT_UPDATE_AND_INSERT, _SENT_DROP_BEFORE = (
    Prepared(_UPDATE), Prepared(_INSERT_STATE), Prepared(_UPDATE_AND_INSERT), Prepared(_DROP_BEFORE))


def _write_instance(session: Session, instance: Instance, row: dict[str, Any] | None) -> None:
    """Write the instance row (and ``row``, its new state row) with pre-built statements, then
    flush what else the trigger added or changed through the ORM (incidents, handlers' rows).

    Raises :class:`StaleDataError`, as the ORM's flush would, when the row's version moved on."""
    tracked = inspect(instance)
    if not tracked.persistent:
        session.flush()  # not written yet: the ORM inserts it
    version = instance.version
    params = {"b_id": instance.id, "b_version": version, **{f"v_{c}": getattr(instance, c) for c in _WRITTEN}}
    if row is not None and not is_sqlite(session):
        written = len(_SENT_UPDATE_AND_INSERT.execute(session, {**params, **row}).all())
    else:
        written = _SENT_UPDATE.execute(session, params).rowcount
        if written == 1 and row is not None:
            _SENT_INSERT_STATE.execute(session, {"b_id": instance.id, **row})
    if written != 1:
        raise StaleDataError(f"instance {instance.id} is no longer at version {version}")
    set_committed_value(instance, "version", version + 1)
    # the row holds what the object holds: mark it clean, as the ORM does after writing a row (a flush of
    # a row that only looks modified costs as much as the UPDATE)
    tracked._commit_all(tracked.dict, session.identity_map)
    session.flush()


def _verify(workflow: BpmnWorkflow, saved: state_log.Saved) -> None:
    if not state_log.matches_full(workflow, saved):
        raise AssertionError("the state written in pieces differs from a full serialization")
