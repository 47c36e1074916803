"""``aftersales users``: accounts from the shell, with the same checks as /admin/users."""

from __future__ import annotations

import json

from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401  (the order bundle's test.* operators)
from engine.identity import authenticate
from engine.models import AuditEvent, User

PASSWORD = ("--password", "s3cret-pass-9")


def _users(cli):
    return {u["username"]: u for u in json.loads(cli("users", "list", "--json").output)}


def test_a_role_created_by_a_deployed_lane_can_be_given_from_the_shell(cli, deploy_fixture, database):
    # Given the order bundle, whose lane "Sales Desk" created the role sales_desk
    deploy_fixture("order")
    assert "sales_desk" in cli("users", "roles").output
    # When an operator creates sally with it
    cli("users", "create", "sally", "--role", "sales_desk", "--name", "Sally", "--language", "zh", "--by", "ops",
        *PASSWORD)
    # Then she holds it, and the audit trail names who created her
    assert _users(cli)["sally"] == {"username": "sally", "name": "Sally", "email": "", "language": "zh",
                                    "active": True, "roles": ["sales_desk"]}
    with database.transaction(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.kind == "user.created")).one()
    assert event.actor == "ops" and event.stream == "users"


def test_an_unknown_role_is_refused_with_its_name_and_nothing_is_created(cli):
    result = cli("users", "create", "cora", "--role", "agent", "--role", "customer", *PASSWORD, code=2)
    assert "roles: role 'customer' does not exist" in result.stderr
    assert "cora" not in _users(cli)


def test_a_duplicate_username_and_a_weak_password_are_refused(cli):
    cli("users", "create", "ann", "--role", "agent", *PASSWORD)
    again = cli("users", "create", "ann", "--role", "qa", "--password", "short", code=2)
    assert "username: user 'ann' exists already" in again.stderr
    assert "password: a password needs at least 10 characters" in again.stderr
    assert _users(cli)["ann"]["roles"] == ["agent"]


def test_roles_edit_disable_enable_and_password_reset(cli, database):
    cli("users", "create", "ann", "--role", "agent", *PASSWORD)
    cli("users", "roles", "ann", "--role", "agent", "--role", "supervisor")
    assert _users(cli)["ann"]["roles"] == ["agent", "supervisor"]
    assert "nobody" in cli("users", "roles", "ann", "--role", "nobody", code=2).stderr
    assert "display_name" in cli("users", "edit", "ann", "--name", "Ann Lee", "--email", "ann@example.com").output
    assert "email:" in cli("users", "edit", "ann", "--email", "not-an-address", code=2).stderr
    cli("users", "disable", "ann")
    assert _users(cli)["ann"]["active"] is False
    with database.transaction(write=False) as s:
        assert authenticate(s, "ann", PASSWORD[1]) is None
    cli("users", "enable", "ann")
    assert "password:" in cli("users", "reset-password", "ann", "--password", "abcdefghijkl", code=2).stderr
    cli("users", "reset-password", "ann", "--password", "n3w-password-x")
    with database.transaction(write=False) as s:
        assert authenticate(s, "ann", "n3w-password-x") is not None
        kinds = [e.kind for e in s.scalars(select(AuditEvent).where(AuditEvent.stream == "users")
                                           .order_by(AuditEvent.seq))]
        assert s.scalars(select(User.display_name).where(User.username == "ann")).one() == "Ann Lee"
    assert kinds == ["user.created", "user.roles_changed", "user.updated", "user.disabled", "user.enabled",
                     "user.password_reset"]
