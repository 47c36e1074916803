"""HTTPS-aware session cookies, the proxies the app trusts, and the security headers of every answer.

Behind a reverse proxy that terminates TLS, set ``AFTERSALES_TRUSTED_PROXIES`` to the number
of proxies in front of the app: werkzeug's ``ProxyFix`` then believes that many hops of
``X-Forwarded-For``/``-Proto``/``-Host``/``-Port``/``-Prefix`` (never more — a client could
forge them). The session cookie is ``Secure`` whenever the request came over HTTPS (or always,
with ``SESSION_COOKIE_SECURE``), ``HttpOnly`` and ``SameSite=Lax``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.errors import ConfigError

#: the Content-Security-Policy of every answer: scripts only from this site, never inline
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "font-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": CSP,
}
HSTS = "max-age=31536000"


class SessionOverHttps(SecureCookieSessionInterface):
    """Flask's signed-cookie session, its cookie ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return whether the cookie is sent only over HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def trusted_proxies(app: Flask) -> int:
    """Return ``TRUSTED_PROXIES`` (0: no proxy is believed), refusing anything but a small whole number."""
    value: Any = app.config.get("TRUSTED_PROXIES", 0)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise ConfigError(f"AFTERSALES_TRUSTED_PROXIES must be the number of proxies in front of the app "
                          f"(0 to 5), not {value!r}", setting="TRUSTED_PROXIES")
    return value


def security_headers(response: Response) -> Response:
    """Add the security headers to an answer (pages, error pages, API, files)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if not (request.endpoint or "").endswith("static"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Trust the configured proxies, make session cookies HTTPS-aware, add the security headers."""
    hops = trusted_proxies(app)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,  # type: ignore[method-assign]
                                x_port=hops, x_prefix=hops)
    app.session_interface = SessionOverHttps()
    app.after_request(security_headers)
