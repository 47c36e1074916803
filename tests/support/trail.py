"""How many audit events the database holds: a refused input must leave the count as it was."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.models import AuditEvent


def audit_event_count(services: Any) -> int:
    """Return the number of audit events of every stream."""
    with services.db.transaction(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)
