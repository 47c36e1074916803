"""Extensions, blueprints and error handlers wired into the app."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from engine.errors import AftersalesError

csrf = CSRFProtect()
login_manager = LoginManager()


def init_app(app: Flask) -> None:
    """Register extensions, blueprints, error handlers and security headers."""
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"

    from . import auth

    app.register_blueprint(auth.bp)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify(status="ok")

    @app.errorhandler(AftersalesError)
    def aftersales_error(exc: AftersalesError):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(exc.to_dict()), exc.http_status
        return render_template("error.html", error=exc), exc.http_status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return jsonify(code="csrf_failed", message=exc.description), 400
        return render_template("error.html", error=exc, message=exc.description), 400

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; font-src 'self' data:; frame-ancestors 'none'")
        return response
