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
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

__all__ = [
    "PostgresNotAvailable",
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
            port = _free_port()
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
