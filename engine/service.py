"""Calling service handlers from service tasks, one trigger at a time.

Each call runs in a SAVEPOINT: a handler that fails leaves no row behind. Failures are
remembered per task so the trigger can turn them into incidents (retried with backoff
when the failure was unexpected, left open when it was a modelling or business problem).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .errors import HandlerError
from .registry import BusinessError, HandlerContext, get_handler

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from .models import Instance


@dataclass
class HandlerFailure:
    """What went wrong in one handler call."""

    operator: str
    error: BaseException
    retryable: bool


class ServiceRunner:
    """Invokes handlers for the service tasks of one trigger."""

    def __init__(self, session: Session, instance: Instance, now: datetime, actor: str,
                 attempts: dict[str, int] | None = None) -> None:
        self.session = session
        self.instance = instance
        self.now = now
        self.actor = actor
        self.attempts = attempts or {}
        self.failures: dict[str, HandlerFailure] = {}
        self.calls: list[dict[str, Any]] = []

    def invoke(self, task: Task, operator: str, arguments: dict[str, Any]) -> Any:
        """Call the handler registered for ``operator`` and return its JSON-able result."""
        task_id = str(task.id)
        try:
            handler = get_handler(operator)
        except HandlerError as exc:
            self.failures[task_id] = HandlerFailure(operator, exc, retryable=False)
            raise
        ctx = HandlerContext(
            session=self.session, instance_id=self.instance.id,
            deployment_id=self.instance.deployment_id, business_key=self.instance.business_key,
            task_id=task_id, element_id=task.task_spec.name, now=self.now,
            attempt=self.attempts.get(task_id, 0) + 1, actor=self.actor,
            on_business_key=self._set_business_key,
        )
        try:
            if handler.wants_context:  # it may write: a savepoint undoes its writes if it fails
                with self.session.begin_nested():
                    result = _jsonable_result(operator, handler.call(ctx, arguments))
            else:
                result = _jsonable_result(operator, handler.call(ctx, arguments))
        except BusinessError:
            raise
        except HandlerError as exc:
            self.failures[task_id] = HandlerFailure(operator, exc, retryable=False)
            raise
        except Exception as exc:
            self.failures[task_id] = HandlerFailure(operator, exc, retryable=True)
            raise
        self.calls.append({"task_id": task_id, "operator": operator, "arguments": arguments})
        return result

    def _set_business_key(self, key: str) -> None:
        _set_business_key_on(self.instance, key)


def _set_business_key_on(instance: Instance, key: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > 64:
        raise HandlerError(f"business key {key!r} must be a non-empty string of at most 64 characters")
    instance.business_key = key


def _jsonable_result(operator: str, result: Any) -> Any:
    try:
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as exc:
        raise HandlerError(f"handler {operator!r} returned data that is not JSON: {exc}",
                           handler=operator) from exc
