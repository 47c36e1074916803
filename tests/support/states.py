"""Starting states: what many tests' databases hold before the test begins (the processes/
bundle deployed, the demo catalogue loaded, staff signed up), built once per test process
and backend, and copied for every test that starts from it.

A conftest declares a state with :func:`starting_state`, which returns its fixture::

    def _journey(database: Database) -> int:
        with database.transaction() as session:
            return deploy(session, journey_bundle(), "owner").deployment_id

    journey_state = starting_state("journey_state", _journey)

A test whose fixture closure holds ``journey_state`` gets, as ``database``, a copy of a
migrated database on which ``_journey`` ran once (under the tests' frozen clock and their
cheap password hashes), and the fixture's value is what ``_journey`` returned then. A test
whose closure holds several states starts from one database on which each ran, in the
order their ``after`` lists and their declaration give. Everything a builder leaves in
memory must be keyed by the database's URL (every test's copy has its own, see
``DatabasePool.acquire``), so a copy behaves as if the builder had run on it.
"""

from __future__ import annotations

import copy
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from engine import clock as engine_clock
from engine.db import Database

__all__ = ["START", "VALUES", "SqliteStates", "build_states", "cheap_password_hashes", "starting_state",
           "states_of"]

#: the tests' frozen clock starts here (tests/conftest.py ``clock``); states are built at it too
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def frozen_clock() -> Iterator[engine_clock.FrozenClock]:
    """Install a clock frozen at :data:`START` for the whole process while the generator runs (a
    fixture's body: per test in tests/conftest.py, per module where a module's site outlives a test)."""
    frozen = engine_clock.FrozenClock(START)
    previous = engine_clock.set_clock(frozen)
    yield frozen
    engine_clock.set_clock(previous)
#: where ``database_url`` leaves the values of the test's starting states
VALUES = pytest.StashKey[dict[str, Any]]()


@dataclass(frozen=True)
class StartingState:
    """A state tests start from: its fixture's name, how to build it, which states come first."""

    name: str
    build: Callable[[Database], Any]
    after: tuple[str, ...] = ()


_REGISTRY: dict[str, StartingState] = {}


def starting_state(name: str, build: Callable[[Database], Any], after: Iterable[str] = ()) -> Any:
    """Declare a starting state and return its fixture (assign it to ``name`` in a conftest)."""
    state = StartingState(name, build, tuple(after))
    known = _REGISTRY.get(name)
    if known is not None and _where(known.build) != _where(build):  # a conftest imported twice is the same one
        raise ValueError(f"starting state {name!r} is declared twice")
    missing = [other for other in state.after if other not in _REGISTRY]
    if missing:
        raise ValueError(f"starting state {name!r} comes after undeclared {missing}")
    _REGISTRY.setdefault(name, state)

    def fixture(database_url: str, request: pytest.FixtureRequest) -> Any:
        return copy.deepcopy(request.node.stash[VALUES][name])

    fixture.__doc__ = build.__doc__
    fixture.__name__ = name
    return pytest.fixture(name=name)(fixture)


def _where(build: Callable[..., Any]) -> tuple[str, int]:
    return build.__code__.co_filename, build.__code__.co_firstlineno


def states_of(fixturenames: Iterable[str]) -> tuple[str, ...]:
    """The starting states a test's fixtures ask for, with the states they come after, in build order."""
    order = list(_REGISTRY)
    out: list[str] = []

    def visit(name: str) -> None:
        if name not in out:
            for other in _REGISTRY[name].after:
                visit(other)
            out.append(name)

    for name in sorted((n for n in set(fixturenames) if n in _REGISTRY), key=order.index):
        visit(name)
    return tuple(out)


def _cheap_hash(password: str) -> str:
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


@contextmanager
def cheap_password_hashes() -> Iterator[None]:
    """Hash passwords cheaply meanwhile (scrypt's cost would dominate the time of tests that make users)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("engine.identity.generate_password_hash", _cheap_hash)
        yield


def build_states(database: Database, names: tuple[str, ...]) -> dict[str, Any]:
    """Build ``names`` in order on ``database`` at the tests' start time; return their values."""
    previous = engine_clock.set_clock(engine_clock.FrozenClock(START))
    try:
        with cheap_password_hashes():
            return {name: _REGISTRY[name].build(database) for name in names}
    finally:
        engine_clock.set_clock(previous)


class SqliteStates:
    """Per test process: a SQLite file for each combination of starting states, built on first use."""

    def __init__(self, folder: Path, migrated: Path) -> None:
        self.folder = folder
        self._built: dict[tuple[str, ...], tuple[Path, dict[str, Any]]] = {(): (migrated, {})}

    def get(self, names: tuple[str, ...]) -> tuple[Path, dict[str, Any]]:
        """The file to copy for a test starting from ``names``, and the states' values."""
        if names not in self._built:
            path = self.folder / f"state{len(self._built)}.sqlite3"
            shutil.copyfile(self._built[()][0], path)
            database = Database(f"sqlite:///{path}")
            try:
                values = build_states(database, names)
            finally:
                database.dispose()
            with sqlite3.connect(path) as conn:  # all in the main file, nothing left in a -wal beside it
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            self._built[names] = (path, values)
        return self._built[names]
