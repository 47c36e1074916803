"""Fixtures of the API tests: the app and the instances of the auditor tests."""

from __future__ import annotations

from tests.web_audit import conftest as audit

app, browser, services, signed_in, users = audit.app, audit.browser, audit.services, audit.signed_in, audit.users
sally, order_instance, incident_instances = audit.sally, audit.order_instance, audit.incident_instances
