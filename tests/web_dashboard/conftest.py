"""Fixtures of the dashboard tests: the web app (``tests/web``'s fixtures) over hand-made KPI facts."""

from __future__ import annotations

from tests.kpi.test_kpi_figures import NOW, figures  # noqa: F401  (the five tickets of the KPI tests)
from tests.web import conftest as web

# the web app fixtures of tests/web, shared
app, browser, services, signed_in, users = web.app, web.browser, web.services, web.signed_in, web.users
__all__ = ["NOW", "app", "browser", "figures", "services", "signed_in", "users"]
