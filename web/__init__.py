"""The Flask web UI and REST API of aftersales (``create_app``).

Holds the app factory, one blueprint per area, templates, static files and the REST API
(:mod:`web.api`). Views are thin: parse, call one function of ``readmodels``,
``analytics`` or :class:`engine.runtime.Runtime`, render.

May import: ``readmodels``, ``analytics``, ``handlers`` and ``engine``. Never ``cli`` or
``simulation`` (import-linter checks, see pyproject.toml).
"""

from __future__ import annotations

import gc
import os
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask

from .services import Services


def create_app(config: dict[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Build the app: defaults, then ``AFTERSALES_*`` environment, then ``config``."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("AFTERSALES_SECRET_KEY") or secrets.token_hex(32),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_IDLE_MINUTES=120,
        DISPLAY_TIMEZONE=os.environ.get("AFTERSALES_TIMEZONE", "Asia/Shanghai"),
        SLA_SOON_SECONDS=4 * 3600,
        TASKS_PER_PAGE=50,
        RATELIMIT_LOGIN=(10, 300),
        RATELIMIT_STATUS=(10, 300),
        CUSTOMER_LINK_DAYS=30,
        INTAKE_PROCESS="after_sales",
        INTAKE_FORM="register_request.schema.json",
        INTAKE_UI_FORM="register_request.uischema.json",
        RATELIMIT_REQUEST=(5, 600),  # requests sent, per client address
        RATELIMIT_REQUEST_POST=(60, 600),  # any post of the request form (look-ups, typos): floods only
    )
    app.config.from_prefixed_env("AFTERSALES")
    if config:
        app.config.update(config)
    app.extensions["aftersales"] = services or Services.from_settings()

    from . import owner_run
    from .setup import init_app

    init_app(app)
    app.register_blueprint(owner_run.bp)
    if app.config.get("FREEZE_HEAP", not app.testing):
        # what the app holds for good (modules, classes, blueprints) leaves the collector's sight:
        # a full collection then walks only what requests made, not 160,000 objects (~85 ms a time)
        gc.collect()
        gc.freeze()
    return app


def get_services() -> Services:
    """Return the services of the current app."""
    from flask import current_app

    return current_app.extensions["aftersales"]
