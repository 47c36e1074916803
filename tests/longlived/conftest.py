"""The real process on a fresh database, with staff for every lane (the process tests' own desk)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.db import Database
from engine.runtime import Runtime
from tests.process.driver import Desk

STAFF = (("agent", "ann"), ("technician", "tom"), ("warehouse", "wes"), ("supervisor", "sue"), ("qa", "quinn"))


@pytest.fixture
def desk(database: Database, runtime: Runtime, clock, make_user) -> Iterator[Desk]:
    """A service desk on a fresh database: processes deployed, catalogue loaded, staff signed up."""
    desk = Desk(database, runtime, clock, {role: make_user(name, role) for role, name in STAFF})
    desk.deploy()
    yield desk
