"""The rows one trigger writes once it has acted: audit events, element roll-ups and work items.

:class:`Writes` collects them while :meth:`engine.trigger.Trigger.finish` works out what
changed, and :meth:`Writes.flush` sends them before the state is saved, in the trigger's
transaction:

* on PostgreSQL as **one statement**: each part a data-modifying CTE (``WITH w0 AS (INSERT
  …), w1 AS (INSERT … ON CONFLICT …) …``) that reads its rows from one JSON parameter
  (``json_populate_recordset``), so the statement's text depends only on which parts there
  are — compiled once, prepared by the server — not on how many rows each has. The parts
  touch different rows (a work item is deleted or written, never both), so the order
  PostgreSQL runs them in does not matter;
* on SQLite, which allows only ``SELECT`` in a CTE, as one multi-row statement per part —
  one per table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table, Text, bindparam, cast, column, delete, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from .driver_sql import Prepared


@dataclass
class _Part:
    table: Table
    rows: list[dict[str, Any]] | None = None  # rows to insert or upsert
    upsert: Insert | None = None  # the INSERT … ON CONFLICT of an upsert
    column: str | None = None  # a delete: the key column and the keys
    keys: list[Any] | None = None

    def shape(self) -> tuple[Any, ...]:
        """Return what the part's SQL depends on (not its rows)."""
        if self.keys is not None:
            return ("delete", self.table.name, self.column)
        assert self.rows
        return ("upsert" if self.upsert is not None else "insert", self.table.name, id(self.upsert),
                tuple(sorted(self.rows[0])))


@dataclass
class Writes:
    """The parts of a trigger's write, sent by :meth:`flush`."""

    parts: list[_Part] = field(default_factory=list)

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (each with the same columns) into ``table``."""
        if rows:
            self.parts.append(_Part(table, rows))

    def upsert(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        """Run an ``INSERT … ON CONFLICT`` for ``rows`` (at most one row per conflict key)."""
        if rows:
            self.parts.append(_Part(statement.table, rows, upsert=statement))  # type: ignore[arg-type]

    def delete(self, table: Table, key: str, keys: list[Any]) -> None:
        """Delete the rows of ``table`` whose ``key`` column is one of ``keys``."""
        if keys:
            self.parts.append(_Part(table, column=key, keys=list(keys)))

    def flush(self, session: Session) -> None:
        """Send every part: one statement on PostgreSQL, one per part on SQLite."""
        parts, self.parts = self.parts, []
        if not parts:
            return
        if session.get_bind().dialect.name != "postgresql":
            for part in parts:
                _alone(session, part)
            return
        shape = tuple(p.shape() for p in parts)
        statement = _combined.get(shape)
        if statement is None:
            if len(_combined) > 256:
                _combined.clear()
            statement = _combined[shape] = _combine(parts)
        session.execute(statement, {f"p{i}": _json(p) for i, p in enumerate(parts)})


def _alone(session: Session, part: _Part) -> None:
    if part.keys is not None:
        key: tuple[Any, ...] = ("delete", part.table, part.column, len(part.keys))
        prepared = _built.get(key)
        if prepared is None:
            column_ = part.table.c[part.column]  # type: ignore[index]
            prepared = _built[key] = Prepared(delete(part.table).where(
                column_.in_([bindparam(f"k{i}", type_=column_.type) for i in range(len(part.keys))])))
        prepared.execute(session, {f"k{i}": k for i, k in enumerate(part.keys)})
        return
    columns = tuple(sorted(part.rows[0]))  # type: ignore[index]
    key = ("upsert", id(part.upsert), columns) if part.upsert is not None else ("insert", part.table, columns)
    prepared = _built.get(key)
    if prepared is None:
        if len(_built) > 256:
            _built.clear()
        prepared = _built[key] = Prepared(part.upsert if part.upsert is not None else part.table.insert(),
                                          column_keys=columns)
    prepared.execute(session, part.rows)  # type: ignore[arg-type]


#: the DELETE … IN (per number of keys), plain INSERT and upsert of each table and columns, compiled
#: once and sent as the driver's SQL (not per trigger)
_built: dict[tuple[Any, ...], Prepared] = {}


#: the combined statement of each shape of parts
_combined: dict[tuple[Any, ...], Any] = {}


def _combine(parts: list[_Part]) -> Any:
    """Return the one statement of ``parts``: the last with the others as data-modifying CTEs."""
    statements = []
    for i, part in enumerate(parts):
        rows = cast(bindparam(f"p{i}", type_=Text), JSON)
        if part.keys is not None:
            keys = select(func.json_array_elements_text(rows)).scalar_subquery()
            statements.append(delete(part.table).where(part.table.c[part.column].in_(keys)))  # type: ignore[index]
            continue
        columns = sorted(part.rows[0])  # type: ignore[index]
        source = select(*(column(c) for c in columns)).select_from(
            func.json_populate_recordset(literal_column(f"NULL::{part.table.name}"), rows).alias("r"))
        insert = part.upsert if part.upsert is not None else postgresql.insert(part.table)
        statements.append(insert.from_select(columns, source))
    *ctes, main = statements
    return main.add_cte(*(c.cte(f"w{i}") for i, c in enumerate(ctes))) if ctes else main


def _json(part: _Part) -> str:
    return json.dumps(part.keys if part.keys is not None else part.rows, default=_value, ensure_ascii=False)


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; aftersales stores aware UTC times")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written through engine.writes")
