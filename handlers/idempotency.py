"""Idempotent handlers: a state-changing call answers a repeat with its first result.

The engine may run a service task again for the same instance and task (a retry after a
crash, an incident retried by staff). ``@idempotent`` keys each call by
``ctx.idempotency_key``, stores the result in the same transaction (and SAVEPOINT) as
the handler's own writes, and returns the stored result on a repeat without running the
handler again — so a retry never reserves twice, opens two tickets or sends twice.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base
from engine.registry import HandlerContext

P = ParamSpec("P")


class HandlerCall(Base):
    """The first result of one state-changing handler call, by instance + task."""

    __tablename__ = "handler_call"

    idempotency_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    operation: Mapped[str] = mapped_column(String(120), primary_key=True)
    result: Mapped[dict[str, Any]]
    called_at: Mapped[datetime]


def idempotent(
    func: Callable[Concatenate[HandlerContext, P], dict[str, Any]],
) -> Callable[Concatenate[HandlerContext, P], dict[str, Any]]:
    """Make ``func`` return its stored first result when called again for the same task."""
    operation = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(ctx: HandlerContext, *args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        done = ctx.session.get(HandlerCall, (ctx.idempotency_key, operation))
        if done is not None:
            return copy.deepcopy(done.result)
        result = func(ctx, *args, **kwargs)
        ctx.session.add(HandlerCall(idempotency_key=ctx.idempotency_key, operation=operation,
                                    result=json.loads(json.dumps(result)), called_at=ctx.now))
        ctx.session.flush()
        return result

    return wrapper
