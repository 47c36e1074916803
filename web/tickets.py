"""Ticket pages for staff: lists with filters, search, one ticket as a workspace (notes, calls, messages,
contact, files, cancel)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from io import BytesIO
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

import readmodels
from engine import clock
from engine.errors import FormValidationError, InvalidInput, PermissionDenied
from engine.models import Instance
from handlers import attachments, message_templates, ticket_notes
from readmodels.texts import reader_texts
from readmodels.ticket_list import SLA_FILTERS, STATES, TicketFilter, list_tickets, ticket_choices
from readmodels.workspace import TemplatePicker, contact_for_message, message_picker, staff_alerts, ticket_page

from . import formdata, get_services, tokens
from .access import INTAKE, STAFF, current_actor, roles_required
from .i18n import current_language, use_bundle_texts
from .i18n import translate as _
from .rendering import csv_response, display_tz, error_text
from .setup import csrf

bp = Blueprint("tickets", __name__)

#: roles that write notes on a ticket (everybody who works on it)
NOTE_ROLES = frozenset({"agent", "supervisor", "technician", "warehouse", "qa"})
#: extra bytes of a form beside its file (field names, CSRF token, multipart boundaries)
FORM_OVERHEAD = 256 * 1024
NOT_ALLOWED = "{name} is not a photo (JPEG, PNG, WebP, HEIC), a PDF or plain text; programs, web pages and SVG files are refused."  # noqa: E501


def _page(key: str, errors: dict[str, str] | None = None, status: int = 200, section: str = "",  # type: ignore[no-untyped-def]
          form: Any = None, template: str | None = None):
    services = get_services()
    errors, form = dict(errors or {}), form if form is not None else {}
    with services.db.transaction(write=False) as s:
        detail, ws = ticket_page(s, services.runtime.specs, current_actor(), key)
        use_bundle_texts(reader_texts(s, current_language(), services.settings.processes_dir / "data",
                                      detail.instance.deployment_id))
        picker = None
        if detail.instance.business_key and current_actor().roles & INTAKE:
            picker, status = _picker(s, detail.instance, template, errors, status)
    if picker is not None and picker.chosen is not None:
        form, section = {"template": picker.chosen.name, "subject": picker.chosen.subject,
                         "body": picker.chosen.body}, "message"
    elif template is not None:
        section = "message"
    links = {}
    if detail.instance.business_key and current_actor().roles & INTAKE:
        links = {m: tokens.action_url(detail.instance.business_key, m, external=True)
                 for m in detail.waiting_for if m in readmodels.CUSTOMER_MESSAGES}
    return render_template("tickets/show.html", t=detail, ctx=detail.context, inst=detail.instance, links=links,
                           alerts=staff_alerts(detail.notifications),
                           ws=ws, errors=errors, form=form, section=section, picker=picker,
                           filled=_filled_texts(picker), sms=message_templates.sms_parts(form.get("body", "")),
                           max_mb=attachments.MAX_BYTES // 2**20, note_roles=NOTE_ROLES), status


def _picker(s: Session, instance: Instance, template: str | None, errors: dict[str, str],
            status: int) -> tuple[TemplatePicker | None, int]:
    """Return the ticket's message templates, ``template`` filled for the form; a bad one is an error on its field."""
    key, specs = str(instance.business_key), get_services().runtime.specs
    try:
        return message_picker(s, specs, key, _signature(), template, instance), status
    except FormValidationError as exc:
        errors["template"] = exc.errors[0].message
        return message_picker(s, specs, key, _signature(), instance=instance), 422


def _signature() -> str:
    """Return the name the sender signs a message with."""
    return str(getattr(current_user, "display_name", "") or current_actor().username)


def _filled_texts(picker: TemplatePicker | None) -> dict[str, dict[str, str]]:
    """Return each template's filled subject and body (or why it cannot be filled), for the page's script."""
    if picker is None:
        return {}
    return {name: {"subject": f.subject, "body": f.body} if isinstance(f, message_templates.Filled)
            else {"error": _(f)} for name, f in picker.filled.items()}


@bp.get("/tickets/<key>")
@roles_required(STAFF)
def show(key: str):  # type: ignore[no-untyped-def]
    """Show a ticket: status, tasks, clocks, contact, workspace, files and one timeline; with ``template``,
    the message form filled from that message template in the customer's language."""
    return _page(key, template=request.args.get("template") or None)


def _act(key: str, section: str, roles: frozenset[str], action: Callable[[Session], str]):  # type: ignore[no-untyped-def]
    """Run one workspace action in a transaction; on a bad value show the page again with the error."""
    if not current_actor().roles & roles:
        raise PermissionDenied("your roles do not allow this on a ticket")
    try:
        with get_services().db.transaction() as s:
            done = action(s)
    except FormValidationError as exc:
        return _page(key, {e.field: formdata.said(e) for e in exc.errors}, 422, section, request.form)
    except InvalidInput as exc:
        field = str(exc.details.get("field") or section)
        return _page(key, {field: error_text(exc)}, exc.http_status, section, request.form)
    flash(done, "ok")
    return redirect(url_for("tickets.show", key=key, _anchor=section))


def _form(name: str) -> str:
    return request.form.get(name, "")


@bp.post("/tickets/<key>/notes")
@roles_required(STAFF)
def add_note(key: str):  # type: ignore[no-untyped-def]
    """Add an internal note."""
    def action(s: Session) -> str:
        ticket_notes.add_note(s, key, current_actor().username, _form("note"))
        return _("Note added.")
    return _act(key, "note", NOTE_ROLES, action)


@bp.post("/tickets/<key>/calls")
@roles_required(STAFF)
def log_call(key: str):  # type: ignore[no-untyped-def]
    """Log a phone call with the customer."""
    def action(s: Session) -> str:
        ticket_notes.log_call(s, key, current_actor().username, _form("direction"), _form("outcome"),
                              _form("minutes"), _form("call_note"))
        return _("Call logged.")
    return _act(key, "call", INTAKE, action)


@bp.post("/tickets/<key>/messages")
@roles_required(STAFF)
def message(key: str):  # type: ignore[no-untyped-def]
    """Send the customer a message on their channel (through the outbox)."""
    def action(s: Session) -> str:
        customer = contact_for_message(s, get_services().runtime.specs, key)
        template = _form("template")
        if template:
            picker = message_picker(s, get_services().runtime.specs, key, _signature())
            if template not in picker.titles:
                raise ticket_notes.refuse("template", message_templates.UNKNOWN)
            template = message_templates.template_path(template, picker.language)
        row = ticket_notes.message_customer(s, key, current_actor().username, customer, _form("subject"),
                                            _form("body"), _form("channel") or None, template)
        return _("Message queued for the customer by {channel}.", channel=_(row.details["channel"]))
    return _act(key, "message", INTAKE, action)


@bp.post("/tickets/<key>/contact")
@roles_required(STAFF)
def edit_contact(key: str):  # type: ignore[no-untyped-def]
    """Change the customer's phone, e-mail or address (audited, old → new)."""
    def action(s: Session) -> str:
        fields = {k: request.form[k] for k in ("phone", "email", "address") if k in request.form}
        changed = ticket_notes.change_contact(s, key, current_actor().username, **fields)
        if not changed:
            return _("Nothing changed.")
        return _("Contact details changed: {fields}.", fields=", ".join(_(f) for f in changed))
    return _act(key, "contact", INTAKE, action)


@bp.post("/tickets/<key>/cancel")
@roles_required(STAFF)
def cancel(key: str):  # type: ignore[no-untyped-def]
    """Cancel the request through the process engine, with a reason."""
    def action(s: Session) -> str:
        ticket_notes.cancel_ticket(s, get_services().runtime, key, current_actor(), _form("reason"))
        return _("The request was cancelled.")
    return _act(key, "cancel", ticket_notes.CANCEL_ROLES, action)


@bp.post("/tickets/<key>/attachments")
@csrf.exempt
@roles_required(STAFF)
def upload(key: str):  # type: ignore[no-untyped-def]
    """Attach a photo, PDF or text file; refused by size and content type with the reason on the field.

    The app's request limit is below a 10 MB file, so this view raises it for itself and
    checks the CSRF token once the form is read.
    """
    if not current_actor().roles & attachments.MAY_ADD:
        raise PermissionDenied("your roles do not allow attaching files to a ticket")
    request.max_content_length = attachments.MAX_BYTES + FORM_OVERHEAD
    limit = attachments.MAX_BYTES // 2**20
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _page(key, {"file": _("The file is larger than {mb} MB; nothing was attached.", mb=limit)},
                     413, "files")
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    if upload is None or not upload.filename:
        return _page(key, {"file": _("Choose a file to attach.")}, 422, "files")
    name, kind, content = upload.filename, upload.mimetype, upload.read()
    try:
        with get_services().db.transaction() as s:
            row = attachments.add_attachment(s, key, name, content, kind, current_actor().username, "ticket")
            kept = row.filename
    except InvalidInput as exc:
        messages = {
            "too_large": _("{name} is {size} MB; the limit is {mb} MB. Nothing was attached.", name=name,
                           size=f"{len(content) / 2**20:.1f}", mb=limit),
            "type": _(NOT_ALLOWED, name=name),
        }
        return _page(key, {"file": messages.get(str(exc.details.get("reason")), error_text(exc))}, exc.http_status,
                     "files")
    flash(_("Attached {name}.", name=kept), "ok")
    return redirect(url_for("tickets.show", key=key, _anchor="files"))


@bp.get("/tickets/<key>/attachments/<int:attachment_id>")
@roles_required(STAFF)
def download(key: str, attachment_id: int):  # type: ignore[no-untyped-def]
    """Send one of the ticket's files as a download, never shown inline."""
    with get_services().db.transaction(write=False) as s:
        row, content = attachments.read_attachment(s, key, attachment_id, current_actor())
        name, kind = row.filename, row.content_type
    response = send_file(BytesIO(content), mimetype=kind, as_attachment=True, download_name=name,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/tickets/<key>/quote/<int:quote_id>")
@roles_required(STAFF)
def quote(key: str, quote_id: int):  # type: ignore[no-untyped-def]
    """Show a ticket's quote document as the customer received it, masked as the viewer's role requires."""
    services = get_services()
    with services.db.transaction(write=False) as s:
        html = readmodels.staff_quote_document(s, services.runtime.specs, current_actor(), key, quote_id)
    return Response(html, mimetype="text/html")


@bp.get("/tickets")
@roles_required(STAFF)
def search():  # type: ignore[no-untyped-def]
    """List tickets by filters (state, stage, priority, channel, assignee, SLA, dates, product), or find one
    by number, phone, e-mail, serial number or customer name."""
    text = request.args.get("q", "").strip()
    if not text:
        return _ticket_list()
    with get_services().db.transaction(write=False) as s:
        hits = readmodels.search_tickets(s, current_actor(), text)
    if len(hits) == 1 and hits[0].matched == "ticket" and hits[0].ticket.upper() == text.upper():
        return redirect(url_for("tickets.show", key=hits[0].ticket))
    return render_template(
        "tickets/search.html",
        q=text,
        hits=hits,
        personal=readmodels.reveal_personal(current_actor()),
    )


def read_filter() -> TicketFilter:
    """Parse the ticket list's query string; a bad value is refused naming its filter."""
    args = request.args
    values = {k: (args.get(k) or "").strip()[:100] or None
              for k in ("state", "stage", "priority", "channel", "assignee", "sla", "product")}
    try:
        page = max(1, int(args.get("page") or "1"))
    except ValueError:
        raise InvalidInput("page must be a number", field="page") from None
    zone = display_tz()
    dates = {}
    for name, key, shift in (("opened_from", "from", 0), ("opened_before", "to", 1)):
        raw = (args.get(key) or "").strip()
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                raise InvalidInput("{key}: '{raw}' is not a date (YYYY-MM-DD)",
                                   field=key, params={"key": key, "raw": raw}) from None
            dates[name] = datetime.combine(day + timedelta(days=shift), time(), zone)
    return TicketFilter(page=page, per_page=current_app.config["TASKS_PER_PAGE"], **values, **dates)


def _ticket_list():  # type: ignore[no-untyped-def]
    f = read_filter()
    with get_services().db.transaction(write=False) as s:
        page = list_tickets(s, current_actor(), f, clock.now(), current_app.config["SLA_SOON_SECONDS"])
        choices = ticket_choices(s)
        use_bundle_texts(reader_texts(s, current_language(), get_services().settings.processes_dir / "data"))
    pages = max(1, -(-page.total // f.per_page))
    shown = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("tickets/list.html", f=f, page=page, pages=pages, choices=choices, args=shown,
                           states=STATES, slas=SLA_FILTERS,
                           personal=readmodels.reveal_personal(current_actor()))


@bp.get("/tickets.csv")
@roles_required(STAFF)
def export():  # type: ignore[no-untyped-def]
    """Download the filtered ticket list as CSV (UTF-8 with a byte order mark, so Excel reads Chinese)."""
    f = read_filter()
    with get_services().db.transaction(write=False) as s:
        page = list_tickets(s, current_actor(), f, clock.now(), current_app.config["SLA_SOON_SECONDS"],
                            everything=True)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ticket", "status", "stage", "priority", "channel", "customer", "product", "assignees",
                     "opened_at", "sla_due", "sla_breached"])
    for r in page.rows:
        writer.writerow([r.key, r.status, r.stage, r.priority, r.channel, r.customer, r.product,
                         " ".join(r.assignees), r.opened_at.isoformat(), r.sla_due.isoformat() if r.sla_due else "",
                         "yes" if r.breached else ""])
    return csv_response(out.getvalue(), "tickets.csv")
