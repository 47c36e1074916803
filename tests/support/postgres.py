"""A real, throw-away PostgreSQL server for tests.

    from tests.support.postgres import running_postgres, create_database, drop_database

    with running_postgres(tmp_dir) as admin_url:
        # admin_url == "postgresql+psycopg://postgres@127.0.0.1:PORT/postgres"
        url = create_database(admin_url, "t1")
        ...
        drop_database(admin_url, "t1")

The server uses Debian's binaries (``/usr/lib/postgresql/<highest>/bin``, installed by
``scripts/install``), listens on 127.0.0.1 only, on a free port, trusts every local
connection (user ``postgres``, no password) and trades durability for speed (fsync,
synchronous_commit and full_page_writes off). PostgreSQL refuses to run as root, so when
the tests run as root its data directory is owned by, and the server runs as, the
``postgres`` system user (``runuser -u postgres``).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from tests.support.net import free_port

__all__ = [
    "DatabasePool",
    "PostgresNotAvailable",
    "TemplatePools",
    "create_database",
    "database_url",
    "drop_database",
    "find_pg_bin",
    "running_postgres",
]

SERVER_USER = "postgres"

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    # A test server needs no background chatter in its log.
    "log_min_messages": "warning",
    "logging_collector": "off",
}


class PostgresNotAvailable(RuntimeError):
    """PostgreSQL's binaries or its system user are missing: run scripts/install."""


def find_pg_bin() -> Path:
    """The ``bin`` directory of the highest PostgreSQL version under /usr/lib/postgresql."""
    candidates = []
    for pg_ctl in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"):
        version = pg_ctl.parent.parent.name
        key = tuple(int(part) for part in re.findall(r"\d+", version))
        candidates.append((key, pg_ctl.parent))
    if not candidates:
        raise PostgresNotAvailable(
            "no pg_ctl under /usr/lib/postgresql/*/bin: run scripts/install "
            "(apt-get install postgresql)"
        )
    return max(candidates)[1]


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None means the current user (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresNotAvailable(
            f"running as root but there is no {SERVER_USER!r} system user to run the "
            "server as: run scripts/install (apt-get install postgresql)"
        ) from None


def _make_traversable(path: Path, account: pwd.struct_passwd) -> None:
    """Let ``account`` reach ``path``: add o+x to every ancestor it can't traverse.

    Only directories owned by the current user are changed (typically the 0700
    folders that ``tempfile.mkdtemp`` or pytest's ``tmp_path`` create under /tmp);
    anything else that blocks the way is an error.
    """
    gids = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for directory in [*reversed(path.parents), path]:
        st = directory.stat()
        if (
            (st.st_uid == account.pw_uid and st.st_mode & stat.S_IXUSR)
            or (st.st_gid in gids and st.st_mode & stat.S_IXGRP)
            or st.st_mode & stat.S_IXOTH
        ):
            continue
        if st.st_uid != os.geteuid():
            owner = pwd.getpwuid(st.st_uid).pw_name
            group = grp.getgrgid(st.st_gid).gr_name
            raise PermissionError(
                f"{directory} ({owner}:{group} {stat.filemode(st.st_mode)}) can't be "
                f"traversed by the {account.pw_name!r} user; use a base_dir under "
                "tempfile.gettempdir()"
            )
        os.chmod(directory, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)


def _run(
    cmd: list[str | os.PathLike[str]],
    account: pwd.struct_passwd | None,
    cwd: Path,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    argv = [str(part) for part in cmd]
    if account is not None:
        argv = ["runuser", "-u", account.pw_name, "--", *argv]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PG", "LC_")) and key not in {"LANG", "LANGUAGE"}
    }
    env["LC_ALL"] = "C"
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _check(result: subprocess.CompletedProcess[str], what: str, log: Path | None = None) -> None:
    if result.returncode == 0:
        return
    message = f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
    if log is not None and log.exists():
        message += f"\n--- {log} ---\n" + log.read_text(errors="replace")[-4000:]
    raise RuntimeError(message)


@contextlib.contextmanager
def running_postgres(base_dir: Path | str | None = None) -> Iterator[str]:
    """Start a throw-away PostgreSQL server; yield its admin SQLAlchemy URL.

    ``base_dir`` holds ``postgres/`` with the data directory (removed on exit), the
    Unix socket and ``server.log`` (kept, for a failed test's post-mortem). With no
    ``base_dir``, a fresh ``tempfile.mkdtemp()`` is used and removed on exit.
    The URL is ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``.
    On exit the server is stopped with ``pg_ctl -m immediate stop``.
    """
    bin_dir = find_pg_bin()
    account = _server_account()

    own_base = base_dir is None
    base = Path(tempfile.mkdtemp(prefix="aftersales-pg-") if own_base else base_dir).resolve()
    base.mkdir(parents=True, exist_ok=True)
    home = base / "postgres"
    data = home / "data"
    log = home / "server.log"
    started = False
    try:
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(mode=0o755)
        if account is not None:
            _make_traversable(base, account)
            os.chown(home, account.pw_uid, account.pw_gid)

        _check(
            _run(
                [
                    bin_dir / "initdb",
                    "-D",
                    data,
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ],
                account,
                cwd=home,
            ),
            "initdb",
        )
        conf = data / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\n# tests/support/postgres.py\n")
            for key, value in SETTINGS.items():
                fh.write(f"{key} = {value}\n")
            fh.write(f"unix_socket_directories = '{home}'\n")

        # Another process may grab the port between our probe and the server's bind.
        for attempt in range(5):
            port = free_port()
            with conf.open("a") as fh:
                fh.write(f"port = {port}\n")
            result = _run(
                [bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start"],
                account,
                cwd=home,
            )
            if result.returncode == 0:
                started = True
                break
            in_use = log.exists() and "could not bind" in log.read_text(errors="replace")
            if not in_use or attempt == 4:
                _check(result, "pg_ctl start", log)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        _SERVERS[url] = (bin_dir, data, log, account, home)
        yield url
    finally:
        try:
            if started and _is_running(bin_dir, data, account, home):
                _check(
                    _run(
                        [bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
                        account,
                        cwd=home,
                    ),
                    "pg_ctl stop",
                    log,
                )
        finally:
            if own_base:
                shutil.rmtree(base, ignore_errors=True)
            else:
                shutil.rmtree(data, ignore_errors=True)


_SERVERS: dict[str, tuple[Path, Path, Path, pwd.struct_passwd | None, Path]] = {}


def _is_running(bin_dir: Path, data: Path, account: pwd.struct_passwd | None, home: Path) -> bool:
    return _run([bin_dir / "pg_ctl", "-D", data, "status"], account, cwd=home).returncode == 0


def stop_server(admin_url: str) -> None:
    """Stop a server started by :func:`running_postgres` (to test an unavailable database)."""
    bin_dir, data, log, account, home = _SERVERS[admin_url]
    _check(_run([bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], account, cwd=home), "pg_ctl stop", log)


def start_server(admin_url: str) -> None:
    """Start a server stopped by :func:`stop_server` again, on the same port."""
    bin_dir, data, log, account, home = _SERVERS[admin_url]
    _check(_run([bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start"], account, cwd=home),
           "pg_ctl start", log)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def database_url(admin_url: str, name: str) -> str:
    """``admin_url`` pointing at database ``name`` instead."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _admin_execute(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """CREATE DATABASE ``name`` (a copy of ``template`` if given); return its URL.

    PostgreSQL copies a template only while nobody else is connected to it: dispose of
    the engines that use the template first.
    """
    sql = f"CREATE DATABASE {_quote(name)}"
    if template is not None:
        sql += f" TEMPLATE {_quote(template)}"
    _admin_execute(admin_url, sql)
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE ``name`` if it exists, disconnecting whoever is still connected."""
    _admin_execute(admin_url, f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")


# What a database's schema is made of (relations and their columns, types, triggers,
# functions, schemas) and its migration version: equal fingerprints, same schema.
_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
  SELECT 'rel:' || c.relname || ':' || c.relkind::text || ':' || coalesce(a.attname::text, '') || ':'
         || coalesce(a.atttypid::text, '') || ':' || coalesce(a.attnotnull::text, '') AS item
    FROM pg_class c
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'type:' || typname::text FROM pg_type WHERE typnamespace = 'public'::regnamespace
  UNION ALL SELECT 'trigger:' || t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
  UNION ALL SELECT 'proc:' || proname::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'schema:' || nspname::text FROM pg_namespace
  UNION ALL SELECT 'version:' || version_num::text FROM alembic_version
) AS schema_items
"""


class DatabasePool:
    """Fresh copies of a template database, reused instead of created for every test.

    ``CREATE DATABASE … TEMPLATE`` copies every relation's files (a migrated schema has
    hundreds) and costs far more than most tests. A released database goes back to the
    template's exact state instead: everyone still connected is disconnected, every table
    but ``alembic_version`` emptied and the template's rows put back, every sequence set
    to the template's value. A database whose schema no longer matches the template's (a
    test migrated it down or created a table) is dropped, and a new copy made when needed.
    """

    def __init__(self, admin_url: str, template: str, prefix: str) -> None:
        self.admin_url = admin_url
        self.template = template
        self.prefix = prefix
        self._count = 0
        self._uses = 0
        self._free: list[str] = []
        engine = create_engine(database_url(admin_url, template), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                self._fingerprint = conn.execute(text(_FINGERPRINT)).scalar_one()
                self._tables = conn.execute(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version' ORDER BY tablename")).scalars().all()
                # One SELECT puts every sequence back where the template has it.
                self._sequences = ", ".join(
                    f"setval('{_quote(name)}', {start if last is None else last}, {last is not None})"
                    for name, start, last in conn.execute(text(
                        "SELECT sequencename, start_value, last_value FROM pg_sequences"
                        " WHERE schemaname = 'public' ORDER BY sequencename")))
                self._rows: dict[str, str] = {}  # table → its rows as JSON, put back as they were
                for table in self._tables:
                    rows = conn.execute(text(f"SELECT json_agg(t)::text FROM {_quote(table)} AS t")).scalar_one()
                    if rows is not None:
                        self._rows[table] = rows
        finally:
            engine.dispose()

    def acquire(self) -> str:
        """The URL of a database equal to the template, for one user at a time.

        Each use gets its own URL (``application_name`` differs): the app keys caches of
        deployment files by the database's URL, as deployment ids repeat across databases.
        """
        self._uses += 1
        if self._free:
            base = self._free.pop()
        else:
            self._count += 1
            base = create_database(self.admin_url, f"{self.prefix}_{self._count}", template=self.template)
        return make_url(base).update_query_dict({"application_name": f"{self.prefix}_use{self._uses}"}) \
            .render_as_string(hide_password=False)

    def release(self, url: str) -> None:
        """Take a database back: reset it to the template's state, or drop it."""
        name = make_url(url).database
        assert name is not None
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                  " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                if conn.execute(text(_FINGERPRINT)).scalar_one() != self._fingerprint:
                    raise LookupError(name)
                self._reset(conn)
        except Exception:  # noqa: BLE001 - whatever went wrong, a dropped database is clean
            engine.dispose()
            drop_database(self.admin_url, name)
            return
        engine.dispose()
        self._free.append(database_url(self.admin_url, name))

    def _reset(self, conn: Any) -> None:
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # no foreign-key order
        conn.execute(text(";".join(f"DELETE FROM {_quote(table)}" for table in self._tables)))
        for table, rows in self._rows.items():
            conn.execute(text(f"INSERT INTO {_quote(table)} "
                              f"SELECT * FROM json_populate_recordset(NULL::{_quote(table)}, CAST(:rows AS json))"),
                         {"rows": rows})
        if self._sequences:
            conn.execute(text(f"SELECT {self._sequences}"))


class TemplatePools:
    """A :class:`DatabasePool` per starting state: the migrated template's own, and for each
    state a template that ``build`` filled once, copied from the migrated one."""

    def __init__(self, admin_url: str, template: str, prefix: str) -> None:
        self.admin_url = admin_url
        self.template = template
        self.prefix = prefix
        self._pools: dict[Any, tuple[DatabasePool, Any]] = {}

    def get(self, key: Any, build: Callable[[str], Any] | None = None) -> tuple[DatabasePool, Any]:
        """The pool of state ``key`` (None: the migrated template) and what ``build(url)``
        returned when it filled the state's template, once."""
        if key not in self._pools:
            if build is None:
                self._pools[key] = (DatabasePool(self.admin_url, self.template, self.prefix), None)
            else:
                number = len(self._pools)
                name = f"{self.template}_state{number}"
                value = build(create_database(self.admin_url, name, template=self.template))
                self._pools[key] = (DatabasePool(self.admin_url, name, f"{self.prefix}_s{number}"), value)
        return self._pools[key]
