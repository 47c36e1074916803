"""Loading and saving instances: locks, the spec cache and the bounded instance cache.

Specs are restored once per deployment and shared read-only. Workflows are checked out
of a bounded LRU cache keyed by instance id and version: a trigger *takes* the cached
object (nobody else can touch it), and puts it back only after its transaction commits,
so a failed trigger never leaves a half-advanced workflow behind.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import spiff
from .db import after_commit, is_sqlite
from .errors import NotFound
from .models import Deployment, Instance


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
                raise NotFound(f"deployment {deployment_id} does not exist")
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

    def clear(self) -> None:
        """Forget every cached workflow."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def lock_instance(session: Session, instance_id: int) -> Instance:
    """Load an instance row for update (row lock on PostgreSQL; SQLite writers are serialized)."""
    query = select(Instance).where(Instance.id == instance_id)
    if not is_sqlite(session):
        query = query.with_for_update()
    instance = session.scalars(query).one_or_none()
    if instance is None:
        raise NotFound(f"instance {instance_id} does not exist")
    return instance


def checkout(session: Session, instance: Instance, specs: SpecCache, cache: InstanceCache) -> BpmnWorkflow:
    """Return the instance's workflow, from the cache when it is current."""
    workflow = cache.take(instance.id, instance.version)
    if workflow is None:
        workflow = spiff.load_workflow(instance.state, specs.get(session, instance.deployment_id))
    return workflow


def read_workflow(session: Session, instance: Instance, specs: SpecCache) -> BpmnWorkflow:
    """Deserialize a private copy of the instance's workflow for reading."""
    return spiff.load_workflow(instance.state, specs.get(session, instance.deployment_id))


def save(session: Session, instance: Instance, workflow: BpmnWorkflow, cache: InstanceCache) -> None:
    """Write the workflow into the instance row, flush, and cache it once the transaction commits."""
    instance.state = spiff.dump_workflow(workflow)
    instance.serializer_version = spiff.SERIALIZER_VERSION
    session.flush()  # one UPDATE; bumps instance.version (the optimistic check happens here)
    instance_id, version = instance.id, instance.version
    after_commit(session, lambda: cache.put(instance_id, version, workflow))
