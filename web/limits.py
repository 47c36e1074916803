"""A sliding-window rate limiter for sign-in and the customer status lookup, shared by processes.

Counts live in the app's own database (``rate_limit_bucket``, :func:`engine.identity.hit_limit`),
so several web processes (gunicorn workers, hosts behind a balancer) hold one limit together.
Keys are the client address plus what is being guessed at (username, ticket number), and the
client address alone with a higher limit. Behind a reverse proxy, configure werkzeug's
``ProxyFix`` so that the client address is the real one.
"""

from __future__ import annotations

from flask import current_app, request

from engine.errors import AftersalesError
from engine.identity import hit_limit

from . import get_services


class TooManyRequests(AftersalesError):
    """Raised when a client tried an action too often in a short time."""

    http_status = 429
    code = "rate_limited"


def check(action: str, subject: str = "") -> None:
    """Refuse the request if this client did ``action`` too often (``RATELIMIT_<ACTION>``).

    With a ``subject`` (the username, the ticket number) the limit counts per client and
    subject, and three times the limit per client over all subjects.
    """
    limit, window = current_app.config[f"RATELIMIT_{action.upper()}"]
    client = request.remote_addr or "?"
    keys = [(f"{action}|{client}", limit * 3 if subject else limit)]
    if subject:
        keys.append((f"{action}|{client}|{subject.lower()}", limit))
    with get_services().db.transaction() as session:
        within = hit_limit(session, keys, float(window))
    if not within:
        raise TooManyRequests(f"too many attempts; wait {int(window)} seconds and try again")
