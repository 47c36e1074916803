"""Who calls the API: an integration's key (``Authorization: Bearer``) or a signed-in user.

Bearer requests are exempt from CSRF (a cross-site page cannot set the header); requests
riding on the web session must carry the CSRF token for unsafe methods, as every form does.
A session user's scopes follow from their roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import g, request
from flask_login import current_user

from engine import clock
from engine.apikeys import authenticate_key, record_use
from engine.errors import AftersalesError, PermissionDenied
from engine.identity import Actor

from .. import get_services

#: what a signed-in user may do through the API, by role
ROLE_SCOPES = {
    "agent": {"service-requests:write", "service-requests:read", "tasks:read", "tasks:write",
              "messages:write", "definitions:read"},
    "technician": {"tasks:read", "tasks:write", "service-requests:read"},
    "warehouse": {"tasks:read", "tasks:write", "service-requests:read", "messages:write"},
    "qa": {"tasks:read", "tasks:write", "service-requests:read"},
    "supervisor": {"service-requests:write", "service-requests:read", "tasks:read", "tasks:write",
                   "messages:write", "instances:read", "definitions:read", "signals:write"},
    "process_owner": {"definitions:read", "deployments:write", "instances:read"},
    "auditor": {"instances:read", "definitions:read", "service-requests:read"},
    "admin": {"service-requests:write", "service-requests:read", "tasks:read", "tasks:write",
              "messages:write", "instances:read", "definitions:read", "deployments:write", "signals:write"},
}


class Unauthenticated(AftersalesError):
    """Raised when an API request carries no valid key and no signed-in session."""

    http_status = 401
    exit_code = 3
    code = "unauthenticated"


@dataclass(frozen=True)
class ApiCaller:
    """The caller of one API request."""

    actor: Actor
    scopes: frozenset[str]
    via: str  # key | session


def bearer_token() -> str | None:
    """Return the bearer token of the request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def identify() -> ApiCaller:
    """Return the caller of this request (401 when there is none)."""
    if "api_caller" in g:
        return g.api_caller  # type: ignore[no-any-return]
    token = bearer_token()
    if request.headers.get("Authorization") and token is None:
        raise Unauthenticated("use 'Authorization: Bearer <API key>'")
    if token is not None:
        db = get_services().db
        with db.transaction(write=False) as session:
            key = authenticate_key(session, token)
        if key is None:
            raise Unauthenticated("unknown or revoked API key")
        now = clock.now()
        if key.use_due(now):  # a write transaction only when the last use is to be recorded
            with db.transaction() as session:
                record_use(session, key, now)
        caller = ApiCaller(key.actor, key.scopes, "key")
    elif current_user.is_authenticated:
        actor: Actor = current_user.actor
        scopes = frozenset().union(*(ROLE_SCOPES.get(r, set()) for r in actor.roles))
        caller = ApiCaller(actor, frozenset(scopes), "session")
    else:
        raise Unauthenticated("sign in or send an API key ('Authorization: Bearer <key>')")
    g.api_caller = caller
    return caller


def requires(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a route through only for callers holding ``scope``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = identify()
            if scope not in caller.scopes:
                raise PermissionDenied("this key lacks the scope '{scope}'" if caller.via == "key" else
                                       "this account lacks the scope '{scope}'", params={"scope": scope})
            return view(*args, **kwargs)

        wrapper.scope = scope  # type: ignore[attr-defined]
        return wrapper

    return decorate
