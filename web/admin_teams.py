"""``/admin/teams``: technicians' teams (regions), skills, working days and hours — the data
dispatch chooses by — and the regions and skills of the catalogue (:mod:`handlers.teams`)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from engine.errors import FormValidationError
from handlers.teams import add_to_catalogue, catalogue, list_technicians, save_technician, technician_view

from . import get_services
from .access import current_actor, roles_required
from .account import field_errors
from .admin import ADMIN, bp
from .i18n import translate as _


def _page(errors: dict[str, str] | None = None, entered: dict[str, Any] | None = None, status: int = 200) -> Any:
    with get_services().db.transaction(write=False) as s:
        techs = [technician_view(t) for t in list_technicians(s)]
        known = catalogue(s)
    return render_template("admin/teams.html", techs=techs, catalogue=known, errors=errors or {},
                           entered=entered or {}), status


def _posted() -> dict[str, Any]:
    form = request.form
    return {"username": form.get("username", "").strip(), "name": form.get("name", ""),
            "region": form.get("region", ""), "skills": form.getlist("skills"), "days": form.getlist("days"),
            "start": form.get("start", ""), "end": form.get("end", ""), "active": form.get("active") == "1",
            "new": form.get("new") == "1"}


@bp.get("/teams")
@roles_required(ADMIN)
def teams():  # type: ignore[no-untyped-def]
    """List technicians by team with their skills and hours, editable."""
    return _page()


@bp.post("/teams/technicians")
@roles_required(ADMIN)
def team_technician():  # type: ignore[no-untyped-def]
    """Save one technician (``new=1``: add one); refused fields are marked and nothing changes."""
    values = _posted()
    new = values["new"]
    try:
        with get_services().db.transaction() as s:
            save_technician(s, values["username"], values, current_actor().username, new=new)
    except FormValidationError as exc:
        errors = {f"{'new' if new else values['username']}.{k}": v for k, v in field_errors(exc).items()}
        return _page(errors, values, 422)
    flash(_("Technician {name} saved.", name=values["username"]), "ok")
    return redirect(url_for("admin.teams") + f"#tech-{values['username']}")


@bp.post("/teams/catalogue")
@roles_required(ADMIN)
def team_catalogue():  # type: ignore[no-untyped-def]
    """Add a region or a skill technicians may be given."""
    form = request.form
    try:
        with get_services().db.transaction() as s:
            add_to_catalogue(s, form.get("kind", ""), form.get("code", ""), form.get("name", ""),
                             form.get("name_zh", ""), current_actor().username)
    except FormValidationError as exc:
        return _page({f"cat.{k}": v for k, v in field_errors(exc).items()},
                     {"cat": {k: form.get(k, "") for k in ("kind", "code", "name", "name_zh")}}, 422)
    flash(_("Added."), "ok")
    return redirect(url_for("admin.teams") + "#catalogue")
