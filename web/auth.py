"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, login_required, login_user, logout_user

from engine.identity import Actor, authenticate
from engine.models import User

from . import get_services
from .setup import login_manager

bp = Blueprint("auth", __name__)


class SignedIn(UserMixin):
    """The signed-in member of staff, as Flask-Login sees them."""

    def __init__(self, user: User) -> None:
        self.id = user.username
        self.display_name = user.display_name
        self.actor = Actor.of(user)

    @property
    def roles(self) -> frozenset[str]:
        """Return the user's role names."""
        return self.actor.roles


@login_manager.user_loader
def load_user(username: str) -> SignedIn | None:
    """Reload the signed-in user for each request (roles may have changed)."""
    from sqlalchemy import select

    with get_services().db.transaction(write=False) as s:
        user = s.scalars(select(User).where(User.username == username, User.active.is_(True))).one_or_none()
        return SignedIn(user) if user is not None else None


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Show the sign-in form and sign in."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        with get_services().db.transaction(write=False) as s:
            user = authenticate(s, username, password)
            signed = SignedIn(user) if user else None
        if signed is None:
            flash("Unknown user or wrong password.", "error")
            return render_template("login.html", username=username), 401
        session.clear()
        session.permanent = True
        login_user(signed)
        target = request.args.get("next", "")
        return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("index"))
    return render_template("login.html", username="")


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Sign out."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
