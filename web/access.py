"""Who is asking, and which roles a page needs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user, login_required

from engine.errors import PermissionDenied
from engine.identity import Actor

#: every staff role: the ticket pages and search are open to all of them
STAFF = frozenset(
    {"agent", "technician", "warehouse", "supervisor", "qa", "process_owner", "auditor", "admin"}
)
#: roles that register requests on behalf of customers
INTAKE = frozenset({"agent", "supervisor"})


def current_actor() -> Actor:
    """Return the signed-in user as the engine's :class:`Actor`."""
    return current_user.actor  # type: ignore[no-any-return]


def roles_required(roles: frozenset[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view through only for signed-in users holding one of ``roles``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_actor().roles & roles:
                raise PermissionDenied("your roles do not give access to this page")
            return view(*args, **kwargs)

        return login_required(wrapper)

    return decorate
