"""Sign-in limits hold across several web processes: the counts live in the shared database."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask

from engine.config import load_settings
from engine.db import Database
from engine.identity import hit_limit
from engine.runtime import Runtime
from tests.web.conftest import Browser
from web import create_app
from web.services import Services


@pytest.fixture
def two_apps(database_url: str, users: dict[str, str]) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances, each with its own engine and pool, on one database (two web processes)."""
    dbs = [Database(database_url), Database(database_url)]
    apps = tuple(create_app({"TESTING": True, "SECRET_KEY": "limits", "RATELIMIT_LOGIN": (4, 300)},
                            services=Services(load_settings(database_url=database_url), db,
                                              Runtime(load_settings())))
                 for db in dbs)
    yield apps  # type: ignore[misc]
    for db in dbs:
        db.dispose()


def test_the_sign_in_limit_holds_across_two_app_instances(two_apps):
    # Given two web processes on one database, and a limit of 4 attempts per user
    first, second = (Browser(app.test_client()) for app in two_apps)
    # When wrong passwords for the agent alternate between them
    statuses = [(first if i % 2 == 0 else second).login("agent", "wrong-guess-1").status_code for i in range(4)]
    # Then the fifth attempt is refused on either, even with the right password
    assert statuses == [401, 401, 401, 401]
    assert first.login("agent").status_code == 429
    refused = second.login("agent")
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)


def test_other_users_and_time_passing_are_not_held_back(two_apps, clock):
    first, second = (Browser(app.test_client()) for app in two_apps)
    for _ in range(4):
        first.login("agent", "wrong-guess-1")
    assert second.login("qa").status_code == 302  # another username from the same client
    clock.advance(timedelta(seconds=301))
    assert second.login("agent").status_code == 302  # the window has slid past the failures


def test_concurrent_attempts_are_each_counted_once(database):
    # Given eight attempts at once from separate connections, and a limit of five
    def attempt(_: int) -> bool:
        with database.transaction() as s:
            return hit_limit(s, [("login|10.0.0.9|agent", 5)], 300.0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    # Then exactly five get through, whatever the interleaving
    assert outcomes.count(True) == 5 and outcomes.count(False) == 3


def test_only_failed_sign_ins_count_towards_the_limit(two_apps):
    first, second = (Browser(app.test_client()) for app in two_apps)
    assert [(first if i % 2 else second).login("agent").status_code for i in range(6)] == [302] * 6
    for _ in range(4):
        first.login("agent", "wrong-guess-1")
    assert second.login("agent").status_code == 429
