"""The REST API ``/api/v1`` (blueprint ``bp``) for channel systems and integrations.

Every error is a JSON body ``{"code", "message", "errors"?}`` with the status of its
class in :mod:`engine.errors` (400 malformed, 401 no key, 403 scope or role, 404, 409
state moved on, 413 too large, 422 invalid content). Bodies are limited to
``API_MAX_JSON_BYTES`` (deployments: ``API_MAX_UPLOAD_BYTES``).
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.errors import AftersalesError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def limit_and_protect():  # type: ignore[no-untyped-def]
    """Set the body size limit of the route; refuse callers without key or session (401), then
    check CSRF for session callers."""
    upload = request.endpoint == "api.create_deployment"
    request.max_content_length = current_app.config["API_MAX_UPLOAD_BYTES" if upload else "API_MAX_JSON_BYTES"]
    from .auth import bearer_token, identify

    if request.method not in ("GET", "HEAD", "OPTIONS") and bearer_token() is None:
        from ..setup import csrf

        identify()  # no key and nobody signed in: 401 with WWW-Authenticate, before any CSRF talk
        csrf.protect()  # session-authenticated calls carry the CSRF token like every form


@bp.errorhandler(AftersalesError)
def aftersales_error(exc: AftersalesError):  # type: ignore[no-untyped-def]
    """Answer an engine error with its JSON body and status."""
    from ..rendering import error_body

    response = jsonify(error_body(exc))
    response.status_code = exc.http_status
    if exc.http_status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="aftersales"'
    return response


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    """Answer werkzeug's errors (413, 405 …) with the same JSON shape."""
    code = {413: "payload_too_large"}.get(exc.code or 0, (exc.name or "error").lower().replace(" ", "_"))
    from ..setup import with_headers_of

    return with_headers_of(exc, jsonify(code=code, message=exc.description or exc.name))


def init_app(app: Flask) -> None:
    """Register the API with its limits; bearer requests are exempt from CSRF."""
    from ..setup import csrf
    from . import keys_page, routes, task_form  # noqa: F401  (routes register on bp)

    app.config.setdefault("API_MAX_JSON_BYTES", 256 * 1024)
    app.config.setdefault("API_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(keys_page.bp)
