"""Fixtures that build real objects: a migrated database (SQLite file and PostgreSQL), a
frozen clock, a runtime, deployed bundles, users.

Every test that asks for ``database`` runs once per backend in
``AFTERSALES_TEST_DATABASES`` (default ``sqlite,postgresql``): the PostgreSQL server is
started on loopback by the first such test and stopped at the end of the session (one
server per pytest-xdist worker). Each test gets a fresh database copied from a migrated
template: a file copy on SQLite; on PostgreSQL a ``CREATE DATABASE … TEMPLATE`` copy that,
once a test is done with it, is emptied back to the template's rows and sequences and
handed to the next test (tests/support/postgres.py, ``DatabasePool``).

Starting states (tests/support/states.py): a fixture's expensive starting point — the
processes/ bundle deployed with the catalogue and the desk's staff (``desk_state``), the web
tests' users (``web_users_state``), the handler tests' journey bundle and catalogue — is built
once per worker and backend under the frozen clock, and the test's database is a copy of it
(a file copy; on PostgreSQL a pool of copies of a template database per state). A test's
states are the ``*_state`` fixtures in its closure; a test that deploys by itself gets the
plain migrated copy. Passwords are hashed cheaply in every test (``fast_password_hashes``).

Every engine save is checked against a full dump in every test (``AFTERSALES_VERIFY_STATE=1``,
set below unless the environment sets it; engine/store.py reads it at each save): the guard of
the delta state encoding. It stays on everywhere because it is cheap outside the scenario
folders — measured on SQLite, 0.07 s of 31.6 s CPU in tests/web_api, 0.43 s of 34.4 s in
tests/handlers, 1.3 s of 124 s in tests/web (no browser tests), 3.4 s of 35.4 s in
tests/process (about 10 %, where the big workflows are).
Switch it off per folder only if that share passes ~10 % outside tests/test_engine_*.py,
tests/process, tests/longlived and tests/conformance, which must keep it (an autouse fixture
setting the variable per test with ``monkeypatch.setenv`` would do: it is read at each save,
in each pytest-xdist worker's own process).

Which tests run on PostgreSQL too (the rule; ARCHITECTURE.md, "Testing", says it again):

* Engine, store, concurrency, audit, migration, handler, process, KPI and read-model SQL
  runs on both backends, always: every folder but the web layer's.
* Browser tests (marked ``browser``) and the web layer's folders (``WEB_LAYER``: pages,
  forms, the API, access and personal-data matrices) run on SQLite only: the SQL under
  them is the engine's, the handlers' and the read models', and is run on PostgreSQL by
  those tests. A web-layer module that is the only test of some SQL — a read-model list
  or filter, a pilot figure, a privacy erasure, an instance migration — is listed in
  ``POSTGRESQL_TOO`` (or its tests are marked ``@pytest.mark.postgresql``) and runs on both.
  Add a new page's module there when its query exists nowhere else.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from engine import clock as engine_clock
from engine.bundle import read_bundle
from engine.config import load_settings
from engine.db import Database
from engine.deploy import DeployResult, deploy
from engine.identity import Actor, create_user
from engine.migrate import upgrade
from engine.runtime import Runtime
from tests.support.states import (
    VALUES,
    SqliteStates,
    build_states,
    cheap_password_hashes,
    frozen_clock,
    starting_state,
    states_of,
)

if TYPE_CHECKING:
    from tests.support.postgres import TemplatePools

#: the scenarios' flow-coverage check under pytest-xdist needs hooks on the controller, which loads
#: tests/process/conftest.py only when given a path inside tests/process
pytest_plugins = ["tests.process.flow_coverage_plugin"]

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
PROCESSES = Path(__file__).parent.parent / "processes"
PASSWORD = "correct-horse-1"
os.environ.setdefault("AFTERSALES_VERIFY_STATE", "1")  # every save is checked against a full dump
BACKENDS = [b.strip() for b in os.environ.get("AFTERSALES_TEST_DATABASES", "sqlite,postgresql").split(",")
            if b.strip()]


# The web layer's folders: their tests drive pages, forms and the API, whose SQL is the
# engine's, the handlers' and the read models' — run on PostgreSQL by the tests of those
# layers. They run on SQLite only, except the modules below (and any test marked
# ``postgresql``): the only tests of some SQL (read-model lists and filters, pilot figures,
# privacy erasure, instance migration from the owner's pages).
WEB_LAYER = ("web", "web_api", "security", "owner")
POSTGRESQL_TOO = frozenset({
    "web/test_customers_records.py",
    "web/test_qa_page.py",
    "web/test_tasklist_due.py",
    "web/test_tasks.py",
    "web/test_technician_pages.py",
    "web/test_ticket_workspace_lists.py",
    "web/test_tickets.py",
    "web/test_warehouse_pages.py",
    "web_api/test_api_routes.py",
    "security/test_privacy_new_tables.py",
    "security/test_privacy_requests.py",
    "owner/test_run_migrate.py",
    "owner/test_run_pilot_figures.py",
    "owner/test_run_pilots.py",
})


def backends_of(path: Path, markers: frozenset[str] = frozenset()) -> list[str]:
    """The backends a test's ``database`` runs on, from its module and its markers (see the
    module docstring): both, or SQLite alone for the web layer and for browser tests."""
    relative = path.resolve().relative_to(TESTS.resolve()).as_posix()
    web_layer = relative.split("/")[0] in WEB_LAYER and relative not in POSTGRESQL_TOO
    if "postgresql" in markers or not ("browser" in markers or web_layer):
        return BACKENDS
    return ["sqlite"] if "sqlite" in BACKENDS else BACKENDS[:1]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``database_url`` (and so ``database``) with the test's backends."""
    if "database_url" in metafunc.fixturenames:
        markers = frozenset(mark.name for mark in metafunc.definition.iter_markers())
        metafunc.parametrize("database_url", backends_of(metafunc.definition.path, markers), indirect=True)


@pytest.fixture(scope="session", autouse=True)
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real SMTP server on loopback for this test process, where every e-mail goes that a test does not
    send elsewhere itself (``AFTERSALES_SMTP_*``): a simulated history delivers its mail instead of retrying
    a port where nothing listens, and no test depends on what else listens on this machine's port 8025."""
    from handlers.transports import MailSink
    from tests.support.net import free_port

    sink = MailSink(tmp_path_factory.mktemp("mail-server") / "maildir", port=free_port()).start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AFTERSALES_SMTP_HOST", "127.0.0.1")
        env.setenv("AFTERSALES_SMTP_PORT", str(sink.controller.port))
        yield sink
    sink.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that tests copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_states(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> SqliteStates:
    """The SQLite files of the starting states, each built once on a copy of the migrated template."""
    return SqliteStates(tmp_path_factory.mktemp("sqlite-states"), sqlite_template)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    """A running PostgreSQL server on loopback with a migrated template database.

    Its data lives in its own temporary folder, not pytest's: pytest prunes old basetemp
    folders, which would pull the floor from under a server of a concurrent session.
    """
    from tests.support.postgres import create_database, running_postgres

    with running_postgres() as admin_url:
        template_url = create_database(admin_url, "aftersales_template")
        upgrade(template_url)
        yield admin_url


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database on each backend: migrated, and in the starting states
    the test's fixtures ask for (tests/support/states.py)."""
    names = states_of(request.fixturenames)
    if request.param == "sqlite":
        template, values = request.getfixturevalue("sqlite_states").get(names)
        path = tmp_path / "aftersales.sqlite3"
        shutil.copyfile(template, path)
        request.node.stash[VALUES] = values
        yield f"sqlite:///{path}"
        return
    pools: TemplatePools = request.getfixturevalue("postgres_databases")
    pool, values = pools.get(names, _built_on(names) if names else None)
    request.node.stash[VALUES] = values or {}
    url = pool.acquire()
    yield url
    pool.release(url)


def _built_on(names: tuple[str, ...]) -> Callable[[str], dict[str, Any]]:
    def build(url: str) -> dict[str, Any]:
        database = Database(url)
        try:
            return build_states(database, names)
        finally:
            database.dispose()

    return build


@pytest.fixture(scope="session")
def postgres_databases(postgres_admin: str) -> TemplatePools:
    """Copies of the migrated template and of each starting state's, each reset to its template after a test."""
    from tests.support.postgres import TemplatePools

    return TemplatePools(postgres_admin, "aftersales_template", f"t_{os.getpid()}")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A :class:`Database` on a fresh, migrated database."""
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def clock() -> Iterator[engine_clock.FrozenClock]:
    """A frozen clock installed for the whole process (SpiffWorkflow's timers included)."""
    yield from frozen_clock()


@pytest.fixture
def runtime() -> Runtime:
    """A runtime with quick retries (attempts 3, backoff 10 s)."""
    return Runtime(load_settings(handler_max_attempts=3, handler_backoff_seconds=10))


@pytest.fixture
def deploy_fixture(database: Database):
    """Deploy a folder of ``tests/fixtures`` (or any path) and return the result."""

    def _deploy(name: str | Path, actor: str = "owner") -> DeployResult:
        path = Path(name) if Path(name).is_absolute() else FIXTURES / name
        with database.transaction() as session:
            return deploy(session, read_bundle([path]), actor)

    return _deploy


@pytest.fixture
def cli(database_url: str):
    """Run ``aftersales`` on the test database: ``cli("tasks", "--json", code=0)`` returns the result."""
    from click.testing import CliRunner

    from cli import main

    runner = CliRunner()

    def run(*args: str, code: int = 0):  # type: ignore[no-untyped-def]
        before = dict(os.environ)  # what a command sets for its own process (demo: the links' address) ends here
        try:
            result = runner.invoke(main, list(args), env={"DATABASE_URL": database_url}, catch_exceptions=False)
        finally:
            os.environ.clear()
            os.environ.update(before)
        assert result.exit_code == code, (result.output, result.stderr)
        return result

    return run


@pytest.fixture
def make_user(database: Database):
    """Create a user with roles and return its :class:`Actor`."""

    def _make(username: str, *roles: str) -> Actor:
        with database.transaction() as session:
            create_user(session, username, PASSWORD, list(roles))
        return Actor(username, frozenset(roles))

    return _make


@pytest.fixture(autouse=True)
def fast_password_hashes() -> Iterator[None]:
    """Hash test passwords cheaply (scrypt's cost, 0.1 s a user, would dominate many tests' time)."""
    with cheap_password_hashes():
        yield


# --- Starting states (tests/support/states.py): built once per worker, copied per test ----------
def _desk(database: Database) -> dict[str, Actor]:
    """The desk's staff (tests/process/driver.py ``STAFF``) signed up, then processes/ deployed and
    the demo catalogue loaded; return the staff by role."""
    from tests.process.driver import STAFF, Desk

    for role, name in STAFF:
        with database.transaction() as session:
            create_user(session, name, PASSWORD, [role])
    Desk(database, runtime=None, clock=None, staff={}).deploy()  # type: ignore[arg-type]  (deploy needs neither)
    return {role: Actor(name, frozenset({role})) for role, name in STAFF}


def _web_users(database: Database) -> dict[str, str]:
    """One user per staff role, named after the role (tests/web's ``users``)."""
    from tests.web.conftest import STAFF_ROLES

    with database.transaction() as session:
        for role in STAFF_ROLES:
            create_user(session, role, PASSWORD, [role], display_name=role.title())
    return {role: role for role in STAFF_ROLES}


desk_state = starting_state("desk_state", _desk)
web_users_state = starting_state("web_users_state", _web_users)
web_desk_state = starting_state("web_desk_state", _desk, after=["web_users_state"])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Close the Chromium that the browser tests of this process shared (tests/web/live.py)."""
    live = sys.modules.get("tests.web.live")
    if live is not None:
        live.close_chromium()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules with slow tests first (simulated histories, what-ifs, worker processes: minutes
    each), then modules with browser tests, then the others, each group by its number of tests,
    each module's own order kept. pytest-xdist hands out whole modules in this order
    (scripts/test: ``--dist loadscope --no-loadscope-reorder``); a long module handed out last would leave the other
    worker idle at the end, and a browser module of many short tests handed out before a slow one
    would push it towards the end."""
    rank: dict[str, int] = {}
    size: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        size[module] = size.get(module, 0) + 1
        heaviness = 0 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("browser") else 2
        rank[module] = min(rank.get(module, 2), heaviness)
    items.sort(key=lambda item: (rank[item.nodeid.split("::")[0]], -size[item.nodeid.split("::")[0]]))
