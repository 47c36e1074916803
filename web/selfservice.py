"""Customer self-service, no staff login: report a problem, check status, answer by signed link.

Links: ``/service/respond/<token>`` (signed here: quote answer, repair confirmation,
survey) and ``/s/<token>`` (the survey link the survey handler sends).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

import readmodels
from engine import clock, forms
from engine.errors import FormValidationError, MessageNotCorrelated, NotFound
from engine.message_contracts import Sender

from . import formdata, get_services, intake, limits, tokens
from .i18n import current_language
from .intake import render_form
from .tokens import CustomerAction

bp = Blueprint("selfservice", __name__)
RESPONSES = ("quote_response", "customer_confirmation", "survey_answered")


@bp.get("/service/")
def home():  # type: ignore[no-untyped-def]
    """Offer the two things a customer comes for."""
    return render_template("public/home.html")


@bp.route("/service/request", methods=["GET", "POST"])
def report():  # type: ignore[no-untyped-def]
    """Let a customer report a problem (channel ``web``)."""
    schema, ui = intake.public_form()
    if request.method == "GET":
        return render_form("public/request.html", schema, ui, {"customer": {"language": current_language()}})
    limits.check("request")
    values = intake.submitted(schema, ui)
    try:
        data = intake.prepare_request(schema, values, public=True)
    except FormValidationError as exc:
        return render_form("public/request.html", schema, ui, values, exc, 422)
    ticket, _first = intake.start_request(data, None)
    return render_template("public/received.html", ticket=ticket)


@bp.route("/service/status", methods=["GET", "POST"])
def status():  # type: ignore[no-untyped-def]
    """Show a plain-language status to whoever knows the ticket number and the contact."""
    if request.method == "GET":
        return render_template("public/status_form.html", ticket=request.args.get("ticket", ""), contact="")
    ticket = request.form.get("ticket", "").strip()[:32]
    contact = request.form.get("contact", "").strip()[:200]
    limits.check("status", ticket.upper())
    services = get_services()
    try:
        with services.db.transaction(write=False) as s:
            view = readmodels.public_status(s, services.runtime.specs, ticket, contact)
    except NotFound:
        return render_template("public/status_form.html", ticket=ticket, contact=contact, not_found=True), 404
    links = {m: tokens.action_url(view.ticket, m) for m in view.actions}
    return render_template("public/status.html", view=view, links=links)


@bp.route("/service/respond/<token>", methods=["GET", "POST"])
def respond(token: str):  # type: ignore[no-untyped-def]
    """Answer a quote, confirm the repair or take the survey through a signed link."""
    return _answer(tokens.verify(token), token)


@bp.route("/s/<token>", methods=["GET", "POST"])
def survey(token: str):  # type: ignore[no-untyped-def]
    """Take the survey through the link the survey handler sent."""
    return _answer(CustomerAction(readmodels.survey_ticket(token, clock.now()), "survey_answered"), None)


@bp.get("/service/respond/<token>/quote")
def quote_document(token: str):  # type: ignore[no-untyped-def]
    """Show the quote document to the customer holding a quote link."""
    action = tokens.verify(token)
    if action.message != "quote_response":
        raise NotFound("this link is not valid")
    services = get_services()
    with services.db.transaction(write=False) as s:
        view = readmodels.public_status(s, services.runtime.specs, action.ticket, None)
        if "quote_id" not in view.quote:
            raise NotFound("there is no quote for this request yet")
        html = readmodels.quote_document(s, action.ticket, int(view.quote["quote_id"]))
    return Response(html, mimetype="text/html")


def _answer(action: CustomerAction, token: str | None):  # type: ignore[no-untyped-def]
    if action.message not in RESPONSES:
        raise NotFound("this link is not valid")
    schema = intake.load_form(f"{action.message}.schema.json")
    ui = intake.load_form("respond.uischema.json")
    services = get_services()
    with services.db.transaction(write=False) as s:
        view = readmodels.public_status(s, services.runtime.specs, action.ticket, None)
    page = {"view": view, "message": action.message, "token": token}
    if action.message not in view.actions:
        return render_template("public/respond_closed.html", **page), 410
    if request.method == "GET":
        return render_form("public/respond.html", schema, ui, {}, **page)
    values = formdata.parse(schema, ui, request.form, {})
    try:
        forms.validate(schema, values, where="your answer")
        payload = {"comment": "", **values}
        if action.message == "survey_answered":
            payload["via"] = "web"
        with services.db.transaction() as s:
            services.runtime.deliver_message(s, action.message, action.ticket, payload,
                                                 sender=Sender.customer())
    except FormValidationError as exc:
        return render_form("public/respond.html", schema, ui, values, exc, 422, **page)
    except MessageNotCorrelated:
        return render_template("public/respond_closed.html", **page), 410
    return render_template("public/thanks.html", **page)
