"""``aftersales users``: staff accounts from the shell, as on ``/admin/users``.

Roles are the built-in ones and those a deployed bundle's lanes created; anything else is
refused with its name. Every change is audited with ``--by`` (default ``cli``).
"""

from __future__ import annotations

from typing import Any

import click

from engine.identity import (
    LANGUAGES,
    add_user,
    assignable_roles,
    edit_user,
    list_users,
    reset_password,
    set_active,
    set_roles,
)

from .main import _emit, _services, handled, main

BY = click.option("--by", default="cli", show_default=True, help="who makes the change (audit trail)")


@main.group()
def users() -> None:
    """Manage staff accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="a built-in role or one a deployed bundle's lane created (repeat for several)")
@click.option("--name", default="")
@click.option("--email", default="")
@click.option("--language", type=click.Choice(["", *LANGUAGES]), default="",
              help="the user's UI language (default: as the browser asks)")
@click.password_option(envvar="AFTERSALES_NEW_USER_PASSWORD")
@BY
@click.pass_context
@handled
def users_create(ctx: click.Context, username: str, roles: tuple[str, ...], name: str, email: str, language: str,
                 password: str, by: str) -> None:
    """Create a staff account with one or more roles."""
    with _services(ctx).db.transaction() as session:
        add_user(session, username, password, list(roles), name, email, language, by=by)
    click.echo(f"user {username} created with role(s) {', '.join(roles)}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List the accounts with their roles, language and state."""
    with _services(ctx).db.transaction(write=False) as session:
        rows = [{"username": u.username, "name": u.display_name, "email": u.email, "language": u.language,
                 "active": u.active, "roles": sorted(u.role_names)} for u in list_users(session)]
    _emit(rows, as_json, lambda rs: "\n".join(
        f"{r['username']:20} {'active' if r['active'] else 'DISABLED':8} {r['language'] or '-':3} "
        f"{', '.join(r['roles'])}" for r in rs) or "no users")


@users.command("roles")
@click.argument("username", required=False)
@click.option("--role", "roles", multiple=True, help="give exactly these roles (repeat for several)")
@BY
@click.pass_context
@handled
def users_roles(ctx: click.Context, username: str | None, roles: tuple[str, ...], by: str) -> None:
    """Set USERNAME's roles to exactly --role …; without arguments, list the roles one may give."""
    with _services(ctx).db.transaction(write=bool(username)) as session:
        if not username:
            for name, description in assignable_roles(session).items():
                click.echo(f"{name:20} {description}")
            return
        if not roles:
            raise click.UsageError("give the roles with --role (repeat for several)")
        changed = set_roles(session, username, list(roles), by)
    click.echo(f"user {username} has role(s) {', '.join(roles)}" + ("" if changed else " (unchanged)"))


@users.command("edit")
@click.argument("username")
@click.option("--name", default=None)
@click.option("--email", default=None)
@click.option("--language", default=None, help="en or zh")
@BY
@click.pass_context
@handled
def users_edit(ctx: click.Context, username: str, name: str | None, email: str | None, language: str | None,
               by: str) -> None:
    """Change a user's name, e-mail address or language."""
    with _services(ctx).db.transaction() as session:
        changes = edit_user(session, username, by, display_name=name, email=email, language=language)
    click.echo("; ".join(f"{k}: {_show(old)} -> {_show(new)}" for k, (old, new) in changes.items())
               or "nothing changed")


def _show(value: Any) -> str:
    return repr(value) if value else "-"


@users.command("disable")
@click.argument("username")
@BY
@click.pass_context
@handled
def users_disable(ctx: click.Context, username: str, by: str) -> None:
    """Disable an account: the user cannot sign in, and their open sessions end."""
    _set_active(ctx, username, False, by)


@users.command("enable")
@click.argument("username")
@BY
@click.pass_context
@handled
def users_enable(ctx: click.Context, username: str, by: str) -> None:
    """Enable a disabled account again."""
    _set_active(ctx, username, True, by)


def _set_active(ctx: click.Context, username: str, active: bool, by: str) -> None:
    with _services(ctx).db.transaction() as session:
        set_active(session, username, active, by)
    click.echo(f"user {username} {'enabled' if active else 'disabled'}")


@users.command("reset-password")
@click.argument("username")
@click.password_option(envvar="AFTERSALES_NEW_USER_PASSWORD")
@BY
@click.pass_context
@handled
def users_reset_password(ctx: click.Context, username: str, password: str, by: str) -> None:
    """Set a new password for a user; their open sessions end."""
    with _services(ctx).db.transaction() as session:
        reset_password(session, username, password, by)
    click.echo(f"password of {username} reset")
