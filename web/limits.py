"""A small sliding-window rate limiter for sign-in and the customer status lookup.

Counts live in the process (one web process, or one per gunicorn worker: the limit then
applies per worker). Keys are the client address plus what is being guessed at
(username, ticket number), and the client address alone with a higher limit. Behind a
reverse proxy, configure werkzeug's ``ProxyFix`` so that the client address is the real one.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import current_app, request

from engine.errors import AftersalesError


class TooManyRequests(AftersalesError):
    """Raised when a client tried an action too often in a short time."""

    http_status = 429
    code = "rate_limited"


class RateLimiter:
    """Remembers recent hits per key and refuses past ``limit`` per ``window`` seconds."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: float) -> bool:
        """Record one hit for ``key``; tell whether it is still within the limit."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 50_000:  # forget idle keys so memory stays bounded
                for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
                    del self._hits[stale]
            return True

    def reset(self) -> None:
        """Forget every hit."""
        with self._lock:
            self._hits.clear()


def check(action: str, subject: str = "") -> None:
    """Refuse the request if this client did ``action`` too often (``RATELIMIT_<ACTION>``).

    With a ``subject`` (the username, the ticket number) the limit counts per client and
    subject, and three times the limit per client over all subjects.
    """
    limit, window = current_app.config[f"RATELIMIT_{action.upper()}"]
    limiter: RateLimiter = current_app.extensions["aftersales_limiter"]
    client = request.remote_addr or "?"
    ok = limiter.hit(f"{action}|{client}", limit * 3 if subject else limit, window)
    if subject:
        ok = limiter.hit(f"{action}|{client}|{subject.lower()}", limit, window) and ok
    if not ok:
        raise TooManyRequests(f"too many attempts; wait {int(window)} seconds and try again")
