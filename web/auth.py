"""Signing in and out, and the end of idle or over-long sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from engine import clock
from engine.errors import NotFound
from engine.identity import Actor, authenticate, get_user, session_stamp
from engine.models import User

from . import get_services, limits
from .access import safe_next
from .i18n import translate as _
from .setup import login_manager

bp = Blueprint("auth", __name__)


class SignedIn(UserMixin):
    """The signed-in member of staff, as Flask-Login sees them."""

    def __init__(self, username: str, display_name: str, actor: Actor, language: str = "", stamp: str = "") -> None:
        self.id = username
        self.display_name = display_name
        self.actor = actor
        self.language = language
        self.stamp = stamp

    @classmethod
    def of(cls, user: User) -> SignedIn:
        """Return the signed-in form of a stored user."""
        return cls(user.username, user.display_name, Actor.of(user), user.language, session_stamp(user))

    def get_id(self) -> str:
        """Return what the session keeps: the username and the stamp of the password it was opened with."""
        return f"{self.id}|{self.stamp}"

    @property
    def roles(self) -> frozenset[str]:
        """Return the user's role names."""
        return self.actor.roles


@login_manager.user_loader
def load_user(user_id: str) -> SignedIn | None:
    """Reload the signed-in user for each request (roles may have changed); a disabled account,
    or a password changed since the session began, ends the session."""
    username, _, stamp = user_id.partition("|")
    with get_services().db.transaction(write=False) as s:
        try:
            user = get_user(s, username)
        except NotFound:
            return None
        if not user.active or stamp != session_stamp(user):
            return None
        return SignedIn.of(user)


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Show the sign-in form and sign in."""
    if request.method == "GET":
        return render_template("login.html", username="")
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    limits.check("login", username, record=False)  # failures are counted below
    with get_services().db.transaction(write=False) as s:
        user = authenticate(s, username, password)
        signed = SignedIn.of(user) if user else None
    if signed is None:
        limits.record_failure("login", username)
        flash(_("Unknown user or wrong password."), "error")
        return render_template("login.html", username=username), 401
    _fresh_session()
    if signed.language:  # the account's language wins over a switch made before signing in
        session.pop("lang", None)
    session.permanent = True
    session["seen"] = session["since"] = clock.now().isoformat()
    login_user(signed)
    return redirect(safe_next(request.args.get("next"), url_for("index")))


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Sign out."""
    logout_user()
    _fresh_session()
    return redirect(url_for("auth.login"))


def _fresh_session() -> None:
    """Empty the session (a new one on sign-in and sign-out), keeping the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def expire_idle_session():  # type: ignore[no-untyped-def]
    """Sign out a user idle for longer than ``SESSION_IDLE_MINUTES``, or signed in for longer
    than ``PERMANENT_SESSION_LIFETIME`` (the cookie's own expiry moves on with every request)."""
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    from flask import current_app

    now = clock.now()
    seen, since = session.get("seen"), session.get("since")
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    longest = current_app.permanent_session_lifetime
    if (seen is None or since is None or now - datetime.fromisoformat(seen) > idle
            or now - datetime.fromisoformat(since) > longest):
        logout_user()
        _fresh_session()
        flash(_("Your session expired. Please sign in again."), "error")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    session["seen"] = now.isoformat()
    return None


def init_app(app: Flask) -> None:
    """Register the sign-in pages and the idle-session check."""
    app.register_blueprint(bp)
    app.before_request(expire_idle_session)
