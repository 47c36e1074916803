"""The rows one trigger writes once it has acted: audit events, element roll-ups and work items.

:class:`Writes` collects them while :meth:`engine.trigger.Trigger.finish` works out what
changed, and :meth:`Writes.flush` sends them before the state is saved, in the trigger's
transaction:

* on PostgreSQL as **one statement**: each part a data-modifying CTE (``WITH w0 AS (INSERT
  …), w1 AS (INSERT … ON CONFLICT …) …``); the parts touch different rows (a work item is
  deleted or inserted, never both), so the order PostgreSQL runs them in does not matter;
* on SQLite, which allows only ``SELECT`` in a CTE, as one multi-row statement per part —
  one per table.

A part too large for one statement's bind parameters runs on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

#: bind parameters one combined statement may carry (PostgreSQL allows 65,535)
MAX_PARAMETERS = 30_000


@dataclass
class _Part:
    statement: Any  # an INSERT (rows given), an upsert (rows given) or a DELETE/UPDATE with its values
    rows: list[dict[str, Any]] | None = None

    @property
    def parameters(self) -> int:
        """Return about how many bind parameters the part takes (a DELETE or UPDATE: a few)."""
        return sum(len(r) for r in self.rows) if self.rows else 8


@dataclass
class Writes:
    """The parts of a trigger's write, sent by :meth:`flush`."""

    parts: list[_Part] = field(default_factory=list)

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` into ``table``."""
        if rows:
            self.parts.append(_Part(table.insert(), rows))

    def upsert(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        """Run an ``INSERT … ON CONFLICT`` for ``rows`` (at most one row per conflict key)."""
        if rows:
            self.parts.append(_Part(statement, rows))

    def execute(self, statement: Any) -> None:
        """Run a DELETE or UPDATE that carries its own values."""
        self.parts.append(_Part(statement))

    def flush(self, session: Session) -> None:
        """Send every part: one statement on PostgreSQL, one per part on SQLite."""
        parts, self.parts = self.parts, []
        if session.get_bind().dialect.name != "postgresql" or len(parts) < 2:
            for part in parts:
                _alone(session, part)
            return
        alone = [p for p in parts if p.parameters > MAX_PARAMETERS]
        together = [p for p in parts if p.parameters <= MAX_PARAMETERS]
        batch: list[_Part] = []
        for part in together:
            if batch and sum(p.parameters for p in batch) + part.parameters > MAX_PARAMETERS:
                _combined(session, batch)
                batch = []
            batch.append(part)
        if batch:
            _combined(session, batch)
        for part in alone:
            _alone(session, part)


def _alone(session: Session, part: _Part) -> None:
    if part.rows:
        session.execute(part.statement, part.rows)  # one executemany
    else:
        session.execute(part.statement)


def _combined(session: Session, parts: list[_Part]) -> None:
    """Run ``parts`` as one statement: the last one with the others as data-modifying CTEs."""
    statements = [p.statement.values(p.rows) if p.rows else p.statement for p in parts]
    if len(statements) == 1:
        session.execute(statements[0])
        return
    *ctes, main = statements
    session.execute(main.add_cte(*(c.cte(f"w{i}") for i, c in enumerate(ctes))))
