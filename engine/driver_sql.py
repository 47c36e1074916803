"""Statements of the trigger's hot path, compiled once per dialect and sent as the driver's SQL.

``session.execute(statement, params)`` spends 60–150 µs of Python on each call before and after
the driver's own work (the statement's cache key, an execution context, the result's set-up),
and a trigger sends half a dozen such statements. A :class:`Prepared` statement is compiled
once per dialect; each call converts its parameters with the very bind processors SQLAlchemy's
compilation gives (the columns' types: aware datetimes, JSON …) and sends the SQL text through
``Connection.exec_driver_sql`` on the session's connection, in its transaction. Statement events
(``before_cursor_execute``) still see every statement, and driver errors arrive wrapped as
SQLAlchemy's, as with ``session.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

Converter = Callable[[dict[str, Any]], Any]


class Prepared:
    """One statement compiled once per dialect, with its parameters converted as SQLAlchemy would."""

    __slots__ = ("_by_dialect", "column_keys", "statement")

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[int, tuple[str, Converter]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, Converter]:
        built = self._by_dialect.get(id(dialect))
        if built is None:
            built = self._by_dialect[id(dialect)] = _compile(self.statement, dialect, self.column_keys)
        return built

    def execute(self, session: Session, params: dict[str, Any] | list[dict[str, Any]]) -> CursorResult[Any]:
        """Run the statement with one row of parameters, or many (the driver's executemany)."""
        connection = session.connection()
        sql, convert = self._for(connection.dialect)
        if isinstance(params, list):
            return connection.exec_driver_sql(sql, [convert(p) for p in params])
        return connection.exec_driver_sql(sql, convert(params))


def _compile(statement: ClauseElement, dialect: Dialect, column_keys: list[str] | None) -> tuple[str, Converter]:
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a prepared statement cannot expand its parameters per call")
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        raise ValueError("a prepared statement cannot fill in its columns' Python defaults; pass every column")
    if compiled.escaped_bind_names:
        raise ValueError("a prepared statement's parameter names must need no escaping")
    processors = compiled._bind_processors  # noqa: SLF001 — the types' own conversions, as execute applies them
    # a literal in the statement (``version + 1``) is a bound parameter with its value: converted once here
    fixed = {name: (processors[name](bind.value) if name in processors else bind.value)
             for bind, name in compiled.bind_names.items() if not bind.required and bind.callable is None}
    if compiled.positional:
        order = [(name, processors.get(name)) for name in compiled.positiontup or ()]
        if fixed:
            values = [fixed.get(name) for name, _ in order]

            def positional_with_literals(params: dict[str, Any]) -> tuple[Any, ...]:
                return tuple(value if name in fixed else params[name] if convert is None else convert(params[name])
                             for (name, convert), value in zip(order, values, strict=True))

            return compiled.string, positional_with_literals

        def positional(params: dict[str, Any]) -> tuple[Any, ...]:
            return tuple(params[name] if convert is None else convert(params[name]) for name, convert in order)

        return compiled.string, positional
    names = [(name, processors.get(name)) for name in dict.fromkeys(compiled.bind_names.values()) if name not in fixed]

    def named(params: dict[str, Any]) -> dict[str, Any]:
        sent = {name: params[name] if convert is None else convert(params[name]) for name, convert in names}
        sent.update(fixed)
        return sent

    return compiled.string, named
