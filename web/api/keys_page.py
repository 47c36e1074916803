"""The admins' page of API keys: create (the key is shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.apikeys import SCOPES, create_key, list_keys, revoke_key
from engine.identity import ROLES

from .. import get_services
from ..access import current_actor, roles_required

bp = Blueprint("apikeys", __name__, url_prefix="/admin/api-keys", template_folder="templates")
ADMIN = frozenset({"admin"})


@bp.get("/")
@roles_required(ADMIN)
def index():  # type: ignore[no-untyped-def]
    """List the keys."""
    with get_services().db.transaction(write=False) as s:
        keys = list_keys(s)
    return render_template("api/keys.html", keys=keys, scopes=SCOPES, roles=ROLES, token=None)


@bp.post("/")
@roles_required(ADMIN)
def create():  # type: ignore[no-untyped-def]
    """Create a key and show it this once."""
    name = request.form.get("name", "")
    scopes = request.form.getlist("scopes")
    roles = request.form.getlist("roles")
    with get_services().db.transaction() as s:
        key, token = create_key(s, name, scopes, roles, by=current_actor().username)
        name = key.name
    with get_services().db.transaction(write=False) as s:
        keys = list_keys(s)
    return render_template("api/keys.html", keys=keys, scopes=SCOPES, roles=ROLES, token=token,
                           created=name), 201


@bp.post("/<name>/revoke")
@roles_required(ADMIN)
def revoke(name: str):  # type: ignore[no-untyped-def]
    """Revoke a key."""
    with get_services().db.transaction() as s:
        revoke_key(s, name, by=current_actor().username)
        keys = list_keys(s)
    return render_template("api/keys.html", keys=keys, scopes=SCOPES, roles=ROLES, token=None,
                           revoked=name)
