"""The real process on a fresh database, with staff for every lane (the process tests' own desk)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.db import Database
from engine.identity import Actor
from engine.runtime import Runtime
from tests.process.driver import Desk


@pytest.fixture
def desk(database: Database, runtime: Runtime, clock, desk_state: dict[str, Actor]) -> Iterator[Desk]:
    """A service desk on a fresh database: staff signed up, processes deployed, catalogue loaded
    (a copy of the ``desk_state`` database, tests/conftest.py)."""
    yield Desk(database, runtime, clock, desk_state)
