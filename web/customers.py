"""Customer records for staff: find a customer, see their contact, products, tickets and history."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from engine.errors import InvalidInput
from readmodels.customers import customer_record, find_customers

from . import get_services
from .access import STAFF, current_actor, roles_required

bp = Blueprint("customers", __name__)


@bp.get("/customers")
@roles_required(STAFF)
def index():  # type: ignore[no-untyped-def]
    """List customers, newest first, or those matching a name, phone, e-mail, serial or ticket number."""
    text = request.args.get("q", "").strip()
    try:
        page = max(1, int(request.args.get("page") or "1"))
    except ValueError:
        raise InvalidInput("page must be a number", field="page") from None
    per_page = current_app.config["TASKS_PER_PAGE"]
    with get_services().db.transaction(write=False) as s:
        rows, total = find_customers(s, current_actor(), text, page, per_page)
    return render_template("customers/index.html", q=text, rows=rows, total=total, page=page,
                           pages=max(1, -(-total // per_page)))


@bp.get("/customers/<int:customer_id>")
@roles_required(STAFF)
def show(customer_id: int):  # type: ignore[no-untyped-def]
    """Show one customer's record: contact (masked by role), products, every ticket and the history."""
    with get_services().db.transaction(write=False) as s:
        record = customer_record(s, current_actor(), customer_id)
    return render_template("customers/show.html", c=record)
