"""Fixtures for the owner's workbench tests: the web tests' app, users and signed-in clients."""

from __future__ import annotations

from tests.web.conftest import (  # noqa: F401  (fixtures, shared with tests/web)
    Browser,
    app,
    browser,
    fresh_choices,
    services,
    signed_in,
    users,
)
