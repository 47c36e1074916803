"""Reserve parts from another process (for the multi-process stock test)."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.db import Database
from engine.registry import HandlerContext
from handlers.parts import reserve


def reserve_many(url: str, worker: int, count: int, sku: str) -> int:
    """Reserve one ``sku`` ``count`` times, each in its own transaction; return how many were reserved."""
    db = Database(url)
    reserved = 0
    try:
        for i in range(count):
            with db.transaction() as session:
                ctx = HandlerContext(session=session, instance_id=1000 + worker, deployment_id=1, business_key=None,
                                     task_id=f"p{worker}-{i}", element_id="reserve", now=datetime.now(UTC))
                with session.begin_nested():
                    result = reserve(ctx, ticket_number=f"P{worker}-{i}", parts=[{"sku": sku, "quantity": 1}])
            reserved += sum(line["quantity"] for line in result["reserved"])
    finally:
        db.dispose()
    return reserved
