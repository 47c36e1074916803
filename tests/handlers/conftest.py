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
from engine.identity import Actor, create_user
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


PASSWORD = "correct-horse-1"  # the tests' password (tests/conftest.py)
#: the mail intake's desk: an agent to cancel a request, a supervisor
MAIL_STAFF = (("agent", "ann"), ("supervisor", "sue"))
#: the dispatch tests' desk: the dispatched technician tech.wang is a staff user, and so are
#: tech.zhao, tech.qian and tom (technicians outside the lane's actor)
DISPATCH_STAFF = (("agent", "ann"), ("technician", "tech.wang"), ("warehouse", "wes"), ("supervisor", "sue"),
                  ("qa", "quinn"))
DISPATCH_TECHNICIANS = ("tech.zhao", "tech.qian", "tom")


def _processes_with(database: Database, staff: tuple[tuple[str, str], ...],
                    others: tuple[tuple[str, str], ...] = ()) -> dict[str, Actor]:
    """Sign up ``staff`` (role, name) and ``others``, then deploy processes/ and load the demo
    catalogue; return the staff by role."""
    from tests.process.driver import Desk

    with database.transaction() as session:
        for role, name in staff + others:
            create_user(session, name, PASSWORD, [role])
    Desk(database, runtime=None, clock=None, staff={}).deploy()  # type: ignore[arg-type]  (deploy needs neither)
    return {role: Actor(name, frozenset({role})) for role, name in staff}


def _mail_desk(database: Database) -> dict[str, Actor]:
    """The real processes and catalogue, with ``MAIL_STAFF``."""
    return _processes_with(database, MAIL_STAFF)


def _dispatch_desk(database: Database) -> dict[str, Actor]:
    """The real processes and catalogue, with ``DISPATCH_STAFF`` and ``DISPATCH_TECHNICIANS``."""
    return _processes_with(database, DISPATCH_STAFF, tuple(("technician", name) for name in DISPATCH_TECHNICIANS))


# Built once per worker and copied per test (tests/support/states.py); the journey first.
journey_state = starting_state("journey_state", _journey)
catalogue_state = starting_state("catalogue_state", _catalogue)
mail_desk_state = starting_state("mail_desk_state", _mail_desk)
dispatch_desk_state = starting_state("dispatch_desk_state", _dispatch_desk)


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
