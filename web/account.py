"""Every member of staff's own account: their language and their password (``/account``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from engine.errors import FormValidationError
from engine.identity import LANGUAGES, change_password, edit_user, get_user

from . import get_services
from .i18n import translate as _

bp = Blueprint("account", __name__, url_prefix="/account")


def field_errors(exc: FormValidationError) -> dict[str, str]:
    """Return a refused form's errors by field, each in the reader's language."""
    out: dict[str, str] = {}
    for error in exc.errors:
        template, values = getattr(error, "template", ""), getattr(error, "values", {})
        text = _(template, **values) if template else error.message
        out[error.field] = f"{out[error.field]} {text}" if error.field in out else text
    return out


def save_language(code: str) -> None:
    """Store ``code`` as the signed-in user's language (the header switch and this page use it)."""
    if not current_user.is_authenticated or code not in LANGUAGES or current_user.language == code:
        return
    with get_services().db.transaction() as s:
        edit_user(s, current_user.id, by=current_user.id, language=code)


def _page(errors: dict[str, str] | None = None, status: int = 200) -> Any:
    with get_services().db.transaction(write=False) as s:
        user = get_user(s, current_user.id)
        view = {"username": user.username, "display_name": user.display_name, "email": user.email,
                "language": user.language, "roles": sorted(user.role_names)}
    return render_template("account.html", user=view, languages=LANGUAGES, errors=errors or {}), status


@bp.get("/")
@login_required
def show():  # type: ignore[no-untyped-def]
    """Show the account: language and password."""
    return _page()


@bp.post("/language")
@login_required
def language():  # type: ignore[no-untyped-def]
    """Store the user's language; pages use it from now on (and after signing in again)."""
    code = request.form.get("language", "")
    try:
        with get_services().db.transaction() as s:
            edit_user(s, current_user.id, by=current_user.id, language=code)
    except FormValidationError as exc:
        return _page(field_errors(exc), 422)
    session["lang"] = code
    flash(_("Your language is saved."), "ok")
    return redirect(url_for("account.show"))


@bp.post("/password")
@login_required
def password():  # type: ignore[no-untyped-def]
    """Change one's own password; other sessions of the account end, this one goes on."""
    form = request.form
    try:
        with get_services().db.transaction() as s:
            change_password(s, current_user.id, form.get("current_password", ""), form.get("new_password", ""),
                            form.get("repeat_password", ""))
            from .auth import SignedIn

            signed = SignedIn.of(get_user(s, current_user.id))
    except FormValidationError as exc:
        return _page(field_errors(exc), 422)
    login_user(signed)  # the session now carries the new password's stamp
    flash(_("Your password is changed."), "ok")
    return redirect(url_for("account.show"))
