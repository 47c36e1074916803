"""A sliding-window rate limiter for sign-in, the customer status lookup and the request form, shared by processes.

Counts live in the app's own database (``rate_limit_bucket``, :func:`engine.identity.hit_limit`),
so several web processes (gunicorn workers, hosts behind a balancer) hold one limit together.
Keys are the client address plus what is being guessed at (username, ticket number), and the
client address alone with a higher limit. Sign-in counts failed attempts only, so a good
password needs no write. Behind a reverse proxy, configure werkzeug's
``ProxyFix`` so that the client address is the real one.
"""

from __future__ import annotations

from flask import current_app, request

from engine.errors import AftersalesError
from engine.identity import hit_limit, within_limit

from . import get_services


class TooManyRequests(AftersalesError):
    """Raised when a client tried an action too often in a short time."""

    http_status = 429
    code = "rate_limited"


def _keys(action: str, subject: str) -> tuple[list[tuple[str, int]], float]:
    limit, window = current_app.config[f"RATELIMIT_{action.upper()}"]
    client = request.remote_addr or "?"
    keys = [(f"{action}|{client}", limit * 3 if subject else limit)]
    if subject:
        keys.append((f"{action}|{client}|{subject.lower()}", limit))
    return keys, float(window)


def _refuse(window: float) -> None:
    raise TooManyRequests("too many attempts; wait {window} seconds and try again", params={"window": int(window)})


def check(action: str, subject: str = "", record: bool = True) -> None:
    """Refuse the request if this client did ``action`` too often (``RATELIMIT_<ACTION>``).

    With a ``subject`` (the username, the ticket number) the limit counts per client and
    subject, and three times the limit per client over all subjects. ``record=False`` only
    checks: the caller records the attempt with :func:`record_failure` if it fails (sign-in,
    so that a good password needs no write).
    """
    keys, window = _keys(action, subject)
    if record:
        with get_services().db.transaction() as session:
            within = hit_limit(session, keys, window)
    else:
        with get_services().db.transaction(write=False) as session:
            within = within_limit(session, keys, window)
    if not within:
        _refuse(window)


def record(action: str, subject: str = "") -> None:
    """Count one ``action`` after :func:`check` with ``record=False``: a failed sign-in, a request sent."""
    keys, window = _keys(action, subject)
    with get_services().db.transaction() as session:
        hit_limit(session, keys, window)


record_failure = record  # sign-in counts its failures only
