"""Fixtures of the security tests: the web app of ``tests/web`` and API keys of ``tests/web_api``."""

from __future__ import annotations

from tests.web import conftest as web
from tests.web_api import conftest as api

app, browser, services, signed_in, users = web.app, web.browser, web.services, web.signed_in, web.users
repair_ticket, api_key = web.repair_ticket, api.api_key
intake = api.intake
fresh_choices = web.fresh_choices  # autouse: fresh tasklist filter choices (as in tests/web)
