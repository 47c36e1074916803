"""Database plumbing: the declarative ``Base``, engines, sessions and transactions.

SQLite runs in WAL mode with the driver's own transaction handling switched off, so that
SQLAlchemy's SAVEPOINTs work and write transactions start with ``BEGIN IMMEDIATE`` (one
writer at a time, no lock-upgrade deadlocks). PostgreSQL uses ``SELECT … FOR UPDATE``
on the instance row (see :mod:`engine.store`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event, types
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from .errors import ConcurrentUpdate, StoreUnavailable

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; aftersales stores aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The one declarative base of every table, engine's and handlers' alike."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def create_engine(url: str, **kwargs: Any) -> Engine:
    """Create an SQLAlchemy engine tuned for ``url``'s backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = sa_create_engine(url, **kwargs)
        _tune_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
    connect_args = dict(kwargs.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} {PG_OPTIONS}".strip()
    kwargs["connect_args"] = connect_args
    engine = sa_create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):  # a caller may still ask for a ping at every checkout
        _ping_when_idle(engine)
    return engine


#: PostgreSQL session settings of every connection. JIT compilation is off: the app's statements are
#: short page and write queries, and once one's estimated cost passes ``jit_above_cost`` its
#: compilation costs more than it saves. Measured at 100,000 instances with JIT forced on the
#: dashboard's unregistered-requests query (EXPLAIN ANALYZE, loaded machine): 157-174 ms, 42-47 ms
#: of it compiling, against 35-88 ms without; at ten times the data its estimated cost (8,000
#: now) would pass the default threshold of 100,000 by itself.
PG_OPTIONS = "-c jit=off"

#: a pooled connection idle longer than this is pinged before use; one in use a moment ago is not
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle a while.

    A ping at every checkout (``pool_pre_ping``) is one more round trip per transaction. A
    connection that has sat in the pool may have lost its server (a restart, a fail-over, an idle
    timeout): it is pinged, and a dead one is replaced before the transaction starts. One used
    within the last :data:`PING_AFTER_IDLE_SECONDS` is not; if its server went away since, the
    transaction fails as unavailable and SQLAlchemy drops the pool's older connections.
    """

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa_exc.DisconnectionError(f"a pooled connection is dead: {_first_line(exc)}") from exc


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (savepoints work)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        # straight to the driver: a statement through SQLAlchemy costs more than SQLite's own work here
        try:
            conn.connection.driver_connection.execute(_BEGIN[mode])
        except sqlite3.Error as exc:  # as SQLAlchemy would have wrapped it (a locked database is unavailable)
            raise sa_exc.OperationalError(_BEGIN[mode], None, exc) from exc


_BEGIN = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}


def is_sqlite(bind: Engine | Session) -> bool:
    """Tell whether ``bind`` talks to SQLite."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "sqlite"


class Database:
    """An engine plus session factories for read and write transactions."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(write_engine, expire_on_commit=False)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """Run one transaction: commit when the block ends, roll back on any error."""
        factory = self._write if write else self._read
        session = factory()
        try:
            with translate_db_errors(), session.begin():
                yield session
        finally:
            session.close()

    def session(self) -> Session:
        """Return a plain session (the caller manages the transaction)."""
        return self._read()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


@contextmanager
def translate_db_errors() -> Iterator[None]:
    """Turn SQLAlchemy's connection and version errors into aftersales errors."""
    from sqlalchemy.orm.exc import StaleDataError

    try:
        yield
    except StaleDataError as exc:
        raise ConcurrentUpdate("the instance was changed by another request; reload and try again") from exc
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        if _is_unavailable(exc):
            raise StoreUnavailable(f"database unavailable: {_first_line(exc)}") from exc
        raise


def _is_unavailable(exc: sa_exc.DBAPIError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    markers = ("could not connect", "connection refused", "server closed", "terminating connection",
               "database is locked", "unable to open database", "connection is closed", "timeout")
    return exc.connection_invalidated or any(m in text for m in markers)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def after_commit(session: Session, callback: Any) -> None:
    """Run ``callback()`` once the session's transaction has committed (never on rollback)."""
    session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop("after_commit", None)
