"""The administrator's pages: users and their roles (here), teams and skills
(:mod:`web.admin_teams`), run-time settings (:mod:`web.admin_settings`).

Every change goes through one engine function that checks the input, refuses it with
errors by field (nothing changes), and writes the change to the audit trail with the admin's
name.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from engine.errors import FormValidationError
from engine.identity import (
    LANGUAGES,
    add_user,
    assignable_roles,
    edit_user,
    get_user,
    list_users,
    reset_password,
    set_active,
    set_roles,
    user_history,
)
from engine.models import User

from . import get_services
from .access import current_actor, roles_required
from .account import field_errors
from .i18n import translate as _

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN = frozenset({"admin"})


def user_view(user: User) -> dict[str, Any]:
    """Return what the pages show of an account."""
    return {"username": user.username, "display_name": user.display_name, "email": user.email,
            "language": user.language, "active": user.active, "roles": sorted(user.role_names),
            "created_at": user.created_at}


def _roles(session: Session) -> list[dict[str, Any]]:
    from engine.identity import ROLES

    return [{"name": name, "description": description, "lane": name not in ROLES}
            for name, description in assignable_roles(session).items()]


def _users_page(errors: dict[str, str] | None = None, form: Any = None, status: int = 200) -> Any:
    with get_services().db.transaction(write=False) as s:
        users = [user_view(u) for u in list_users(s)]
        roles = _roles(s)
    return render_template("admin/users.html", users=users, roles=roles, languages=LANGUAGES,
                           errors=errors or {}, form=form or {}, chosen=(form or {}).get("roles", [])), status


@bp.get("/users")
@roles_required(ADMIN)
def users():  # type: ignore[no-untyped-def]
    """List the accounts and offer a form for a new one."""
    return _users_page()


@bp.post("/users")
@roles_required(ADMIN)
def create_user():  # type: ignore[no-untyped-def]
    """Create an account with roles, built-in or created by a deployed bundle's lanes."""
    form = request.form
    values = {"username": form.get("username", ""), "display_name": form.get("display_name", ""),
              "email": form.get("email", ""), "language": form.get("language", ""),
              "roles": form.getlist("roles")}
    try:
        with get_services().db.transaction() as s:
            add_user(s, values["username"], form.get("password", ""), values["roles"], values["display_name"],
                     values["email"], values["language"], by=current_actor().username)
    except FormValidationError as exc:
        return _users_page(field_errors(exc), values, 422)
    flash(_("User {name} created.", name=values["username"].strip()), "ok")
    return redirect(url_for("admin.user", username=values["username"].strip()))


def _user_page(username: str, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    with get_services().db.transaction(write=False) as s:
        view = user_view(get_user(s, username))
        roles = _roles(s)
        history = [{"at": e.at, "actor": e.actor, "kind": e.kind, "data": e.data} for e in user_history(s, username)]
    return render_template("admin/user.html", user=view, roles=roles, errors=errors or {}, history=history), status


@bp.get("/users/<username>")
@roles_required(ADMIN)
def user(username: str):  # type: ignore[no-untyped-def]
    """Show one account to edit."""
    return _user_page(username)


def _change(username: str, action: Any, done: str) -> Any:
    try:
        with get_services().db.transaction() as s:
            action(s, current_actor().username)
    except FormValidationError as exc:
        return _user_page(username, field_errors(exc), 422)
    flash(done, "ok")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>")
@roles_required(ADMIN)
def edit(username: str):  # type: ignore[no-untyped-def]
    """Change the name, e-mail address or language of an account."""
    form = request.form
    return _change(username, lambda s, by: edit_user(
        s, username, by, display_name=form.get("display_name", ""), email=form.get("email", ""),
        language=form.get("language", "")), _("Saved."))


@bp.post("/users/<username>/roles")
@roles_required(ADMIN)
def roles(username: str):  # type: ignore[no-untyped-def]
    """Give the account exactly the ticked roles."""
    wanted = request.form.getlist("roles")
    return _change(username, lambda s, by: set_roles(s, username, wanted, by), _("Roles saved."))


@bp.post("/users/<username>/active")
@roles_required(ADMIN)
def active(username: str):  # type: ignore[no-untyped-def]
    """Disable an account (its sessions end) or enable it again."""
    on = request.form.get("active") == "1"
    return _change(username, lambda s, by: set_active(s, username, on, by),
                   _("Account enabled.") if on else _("Account disabled; its sessions have ended."))


@bp.post("/users/<username>/password")
@roles_required(ADMIN)
def password(username: str):  # type: ignore[no-untyped-def]
    """Set a new password for the account (its sessions end)."""
    new = request.form.get("password", "")
    return _change(username, lambda s, by: reset_password(s, username, new, by),
                   _("Password reset; the user's sessions have ended."))


from . import admin_settings, admin_teams  # noqa: E402,F401  (their routes register on bp)
