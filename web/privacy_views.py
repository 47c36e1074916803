"""Customers' privacy requests for supervisors: export a customer's data, erase it, see past requests.

Supervisors handle them: they already see customers' contact data (``ROLE_SEES``) and deal
with customers' complaints; admins see contact data masked and so do not. The work is
``handlers.privacy_requests``; each request is recorded there and in the audit trail.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from engine.errors import AftersalesError
from handlers.privacy_requests import erase_customer, export_customer, requests_made

from . import get_services
from .access import current_actor, roles_required
from .rendering import error_text

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
HANDLERS = frozenset({"supervisor"})


def _page(status: int = 200, **shown: object):  # type: ignore[no-untyped-def]
    with get_services().db.transaction(write=False) as s:
        made = requests_made(s)
    return render_template("privacy/index.html", made=made, customer=request.form.get("customer", ""),
                           reason=request.form.get("reason", ""), **shown), status


@bp.get("/")
@roles_required(HANDLERS)
def index():  # type: ignore[no-untyped-def]
    """Show the export and erasure forms and the requests handled so far."""
    return _page()


@bp.post("/export")
@roles_required(HANDLERS)
def export():  # type: ignore[no-untyped-def]
    """Download everything stored about a customer as one JSON document."""
    try:
        with get_services().db.transaction() as s:
            document = export_customer(s, request.form.get("customer", ""), current_actor().username)
    except AftersalesError as exc:
        return _page(exc.http_status, error=error_text(exc), field=exc.details.get("field"))
    body = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="customer-data.json"'})


@bp.post("/erase")
@roles_required(HANDLERS)
def erase():  # type: ignore[no-untyped-def]
    """Erase a customer's personal data; refused while one of their tickets is open."""
    try:
        with get_services().db.transaction() as s:
            result = erase_customer(s, request.form.get("customer", ""), request.form.get("reason", ""),
                                    current_actor().username)
    except AftersalesError as exc:
        return _page(exc.http_status, error=error_text(exc), field=exc.details.get("field"))
    return _page(erased=result)
