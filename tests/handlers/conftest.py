"""Fixtures for handler tests: a deployment carrying the real templates, the demo
catalogue, and ``call`` — one handler call as the engine makes it (own transaction,
SAVEPOINT, JSON round trip) on a real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.db import Database
from engine.deploy import deploy
from engine.registry import HandlerContext, get_handler
from handlers.demo import DATA_DIR, load_catalogue
from tests.handlers.samples import journey_bundle
from tests.support.states import starting_state


def _journey(database: Database) -> int:
    """Deploy the journey bundle (with templates) and return its deployment id."""
    with database.transaction() as session:
        return deploy(session, journey_bundle(), "owner").deployment_id


def _catalogue(database: Database) -> dict[str, int]:
    """Load the demo catalogue of ``processes/data``."""
    with database.transaction() as session:
        return load_catalogue(session, DATA_DIR)


# Built once per worker and copied per test (tests/support/states.py); the journey first.
journey_state = starting_state("journey_state", _journey)
catalogue_state = starting_state("catalogue_state", _catalogue)


@pytest.fixture
def deployment(journey_state: int) -> int:
    """The journey bundle (with templates) deployed: its deployment id."""
    return journey_state


@pytest.fixture
def catalogue(catalogue_state: dict[str, int]) -> dict[str, int]:
    """The demo catalogue of ``processes/data`` loaded: how many rows of each kind."""
    return catalogue_state


@dataclass
class Caller:
    """Call handlers by operator name, one transaction per call, as the engine does."""

    database: Database
    deployment_id: int
    clock: Any
    business_keys: list[str] = field(default_factory=list)

    def __call__(self, operator: str, task: str = "task-1", instance: int = 1, **arguments: Any) -> Any:
        handler = get_handler(operator)
        with self.database.transaction() as session:
            ctx = HandlerContext(session=session, instance_id=instance, deployment_id=self.deployment_id,
                                 business_key=None, task_id=task, element_id=operator.replace(".", "_"),
                                 now=self.clock.now(), on_business_key=self.business_keys.append)
            with session.begin_nested():
                result = handler.call(ctx, arguments)
        return json.loads(json.dumps(result))


@pytest.fixture
def call(database: Database, deployment: int, catalogue: dict[str, int], clock: Any) -> Caller:
    """A :class:`Caller` on a database with the catalogue loaded and the templates deployed."""
    return Caller(database, deployment, clock)


@pytest.fixture
def count(database: Database) -> Callable[..., int]:
    """Count the rows of a model (optionally filtered by column values)."""

    def _count(model: Any, **where: Any) -> int:
        with database.transaction(write=False) as session:
            query = select(func.count()).select_from(model)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return int(session.scalar(query) or 0)

    return _count
