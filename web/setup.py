"""Extensions, blueprints, error handlers and security headers wired into the app."""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from engine.errors import AftersalesError

from . import security, static_cache

csrf = CSRFProtect()
login_manager = LoginManager()


def _translate(text: str) -> str:
    from .i18n import translate

    return translate(text)


def with_headers_of(exc: HTTPException, response: Response) -> Response:
    """Give an error page or JSON error the status and headers of ``exc`` (``Allow`` of a 405 …)."""
    response.status_code = exc.code or 500
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Register extensions, blueprints, error handlers and security headers."""
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.localize_callback = _translate
    security.init_app(app)
    static_cache.init_app(app)

    from . import access, auth, customers, i18n, intake, rendering, selfservice, task_page, tasks, tickets

    i18n.init_app(app)
    rendering.init_app(app)
    app.jinja_env.globals["may_open"] = access.may_open  # the header offers only the pages that open
    auth.init_app(app)
    for module in (tasks, task_page, intake, tickets, customers, selfservice):
        app.register_blueprint(module.bp)
    app.add_url_rule("/", "index", tasks.index)

    from . import api, audit_views, owner_views, owner_workbench

    api.init_app(app)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(owner_views.bp)
    app.register_blueprint(owner_workbench.bp)
    app.register_blueprint(owner_workbench.api)

    from . import dashboard, mail, mail_intake, privacy_views, technician

    app.register_blueprint(technician.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(privacy_views.bp)
    app.register_blueprint(mail.bp)
    app.register_blueprint(mail_intake.bp)

    from . import qa, warehouse

    app.register_blueprint(warehouse.bp)
    app.register_blueprint(qa.bp)

    from . import account, admin

    app.register_blueprint(admin.bp)
    app.register_blueprint(account.bp)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify(status="ok", pid=os.getpid())

    @app.errorhandler(AftersalesError)
    def aftersales_error(exc: AftersalesError):  # type: ignore[no-untyped-def]
        from .rendering import error_body, error_text  # the reader's language, from the error's code and parameters

        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(error_body(exc)), exc.http_status
        return render_template(
            "error.html", status=exc.http_status, message=error_text(exc)
        ), exc.http_status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return jsonify(code="csrf_failed", message=exc.description), 400
        return render_template("error.html", status=400, message=exc.description), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            response = jsonify(code=exc.name.lower().replace(" ", "_"), message=exc.description)
        else:
            response = make_response(render_template("error.html", status=exc.code, message=exc.description))
        return with_headers_of(exc, response)
