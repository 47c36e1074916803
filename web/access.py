"""Who is asking, and which roles a page needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app
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

        guarded = login_required(wrapper)
        guarded.allowed_roles = roles  # type: ignore[attr-defined]  # read by may_open: the header asks the same rule
        return guarded

    return decorate


def may_open(endpoint: str) -> bool:
    """Tell whether the signed-in user may open ``endpoint``, by the rule its view checks.

    The header offers a link only where this holds, so it never leads to a 403: a view guarded by
    :func:`roles_required` opens for the roles it names, any other view for whoever is signed in.
    An endpoint this app does not have (an area left out) opens for nobody.
    """
    view = current_app.view_functions.get(endpoint)
    if view is None or not current_user.is_authenticated:
        return False
    roles = getattr(view, "allowed_roles", None)
    return roles is None or bool(current_actor().roles & roles)


#: characters a browser drops or reads as a separator in a URL (tab, CR, LF, other controls) or a
#: path separator (backslash): a ``next`` containing one could lead off the site
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_SPACE = re.compile(r"\s")


def safe_next(target: str | None, fallback: str) -> str:
    """Return ``target`` if it is a path on this site, else ``fallback``.

    Refused: anything not starting with one ``/`` (``//host``, schemes), a backslash, control
    characters or whitespace, also once percent-decoded — browsers drop a tab or newline and
    follow ``/%09/evil.example`` to ``//evil.example``.
    """
    if not target or len(target) > 2048 or not target.startswith("/"):
        return fallback
    decoded = unquote(target)
    path = unquote(target.partition("?")[0].partition("#")[0])
    if _CONTROL.search(target) or _SPACE.search(target) or _CONTROL.search(decoded) or _SPACE.search(path):
        return fallback
    if path.startswith("//") or decoded.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
