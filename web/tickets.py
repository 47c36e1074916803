"""Ticket pages for staff: one ticket with everything about it, and search."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

import readmodels
from readmodels.texts import reader_texts

from . import get_services, tokens
from .access import INTAKE, STAFF, current_actor, roles_required
from .i18n import current_language, use_bundle_texts

bp = Blueprint("tickets", __name__)


@bp.get("/tickets/<key>")
@roles_required(STAFF)
def show(key: str):  # type: ignore[no-untyped-def]
    """Show a ticket: status, stage, timeline, SLA clocks, documents, notifications, open tasks."""
    services = get_services()
    with services.db.transaction(write=False) as s:
        detail = readmodels.ticket_detail(s, services.runtime.specs, current_actor(), key)
        use_bundle_texts(reader_texts(s, current_language(), services.settings.processes_dir / "data",
                                      detail.instance.deployment_id))
    links = {}
    if detail.instance.business_key and current_actor().roles & INTAKE:
        links = {m: tokens.action_url(detail.instance.business_key, m, external=True)
                 for m in detail.waiting_for if m in readmodels.CUSTOMER_MESSAGES}
    return render_template("tickets/show.html", t=detail, ctx=detail.context, inst=detail.instance, links=links)


@bp.get("/tickets")
@roles_required(STAFF)
def search():  # type: ignore[no-untyped-def]
    """Find tickets by number, phone, e-mail, serial number or customer name."""
    text = request.args.get("q", "").strip()
    with get_services().db.transaction(write=False) as s:
        hits = readmodels.search_tickets(s, current_actor(), text) if text else []
    if len(hits) == 1 and hits[0].matched == "ticket" and hits[0].ticket.upper() == text.upper():
        return redirect(url_for("tickets.show", key=hits[0].ticket))
    return render_template(
        "tickets/search.html",
        q=text,
        hits=hits,
        personal=readmodels.reveal_personal(current_actor()),
    )


@bp.get("/tickets/<key>/quote/<int:quote_id>")
@roles_required(STAFF)
def quote(key: str, quote_id: int):  # type: ignore[no-untyped-def]
    """Show a ticket's quote document as the customer received it, masked as the viewer's role requires."""
    services = get_services()
    with services.db.transaction(write=False) as s:
        html = readmodels.staff_quote_document(s, services.runtime.specs, current_actor(), key, quote_id)
    return Response(html, mimetype="text/html")
