"""Customer self-service, no staff login: report a problem, check status, answer by signed link.

Links: ``/service/respond/<token>`` (signed here: quote answer, repair confirmation,
survey), ``/s/<token>`` (the survey link the survey handler sends) and
``/service/status/<token>`` (the status page, signed for one ticket once the customer proved
the ticket number and their contact, or got the number at arrival).

Before a customer sends a request the form suggests knowledge-base articles for their
product and words (``/service/suggestions``, read by ``js/kb_suggest.js``; without
JavaScript the button "Look for answers first" posts the form); "This solved it" counts a
deflection. On the status page the customer may add information (message
``customer_contact``: an agent reviews it), add a photo (``handlers.attachments``), move the
visit to another free window of the technician, or cancel (message ``customer_cancel``).
Every action is rate-limited like the status lookup, needs the form's CSRF token, is
audited on the ticket, and answers a bad value with an error on its field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

import readmodels
from engine import clock, forms
from engine.errors import AftersalesError, FieldError, FormValidationError, MessageNotCorrelated, NotFound
from engine.message_contracts import Sender
from handlers import attachments, knowledge, ticketing
from handlers.values import business_timezone

from . import formdata, get_services, intake, limits, tokens
from .articles import said_article
from .i18n import LANGUAGES, current_language
from .i18n import translate as _
from .intake import render_form
from .rendering import error_text
from .setup import csrf
from .tickets import FORM_OVERHEAD
from .tokens import CustomerAction

bp = Blueprint("selfservice", __name__)
RESPONSES = ("quote_response", "customer_confirmation", "survey_answered")
STATUS = "status"  # the message name of a status-page token: it allows the page's own actions
TEXT_LIMIT = 2000


@bp.before_request
def language_of_the_link() -> None:
    """Speak the language a link from a message names (``?lang=zh``), unless the customer chose one here."""
    named = request.args.get("lang")
    if named in LANGUAGES and not session.get("lang"):
        session["lang"] = named


@bp.get("/service/")
def home():  # type: ignore[no-untyped-def]
    """Offer the two things a customer comes for."""
    return render_template("public/home.html")


@bp.route("/service/request", methods=["GET", "POST"])
def report():  # type: ignore[no-untyped-def]
    """Let a customer report a problem (channel ``web``); suggest articles first."""
    schema, ui = intake.public_form()
    if request.method == "GET":
        return render_form("public/request.html", schema, ui, {"customer": {"language": current_language()}})
    values = intake.submitted(schema, ui)
    try:
        # every post counts against floods (a high limit); only requests sent count against the low one,
        # so a customer correcting typos or looking for answers first is not locked out
        limits.check("request_post")
        if request.form.get("look"):  # without JavaScript: the suggestions, the form as typed
            product, fault = values.get("product") or {}, values.get("fault") or {}
            found = _suggestions(str(fault.get("description") or ""), str(product.get("model") or ""))
            return render_form("public/request.html", schema, ui, values, suggestions=found, looked=True)
        limits.check("request", record=False)
    except limits.TooManyRequests as exc:  # said above the form, what was typed kept
        refused = FormValidationError(exc.message, [FieldError("(form)", error_text(exc))])
        return render_form("public/request.html", schema, ui, values, refused, exc.http_status)
    try:
        data = intake.prepare_request(schema, values, public=True)
    except FormValidationError as exc:
        return render_form("public/request.html", schema, ui, values, exc, 422)
    ticket, _first, attached = intake.start_request(data, None)
    limits.record("request")
    link = url_for("selfservice.status_page", token=tokens.sign(ticket, STATUS)) if ticket else None
    return render_template("public/received.html", ticket=ticket, attached=attached, status_link=link)


def _suggestions(text: str, model: str) -> list[dict[str, Any]]:
    if len(text.strip()) < 3:
        return []
    with get_services().db.transaction(write=False) as s:
        found = knowledge.rank(s, text[:500], model[:64], limit=5)
    found.sort(key=lambda a: a["language"] != current_language())  # the customer's language first
    found = found[:3]
    return [{"id": a["id"], "title": said["title"], "excerpt": said["excerpt"],
             "url": url_for("selfservice.article", article_id=a["id"], model=model or None)}
            for a, said in ((a, said_article(a)) for a in found)]


@bp.get("/service/suggestions")
def suggestions():  # type: ignore[no-untyped-def]
    """Return knowledge-base articles for the words and model typed so far (JSON)."""
    found = _suggestions(request.args.get("text", ""), request.args.get("model", ""))
    return jsonify(articles=found)


@bp.get("/service/articles/<int:article_id>")
def article(article_id: int):  # type: ignore[no-untyped-def]
    """Show a published article, with "This solved it"."""
    with get_services().db.transaction(write=False) as s:
        found = knowledge.published_article(s, article_id)
        page = said_article({"title": found.title, "body": found.body, "id": found.id, "language": found.language},
                            excerpt_only=False)
    return render_template("public/article.html", article=page, model=request.args.get("model", "")[:64])


@bp.post("/service/articles/<int:article_id>/solved")
def solved(article_id: int):  # type: ignore[no-untyped-def]
    """Count a deflection: the article solved the customer's problem, no request needed."""
    limits.check("request_post")
    with get_services().db.transaction() as s:
        knowledge.record_deflection(s, article_id, request.form.get("model", "")[:64], current_language(),
                                    clock.now())
    return render_template("public/solved.html")


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
    return _status_page(view.ticket, tokens.sign(view.ticket, STATUS))


@bp.get("/service/status/<token>")
def status_page(token: str):  # type: ignore[no-untyped-def]
    """Show the status page of the ticket a signed status link names."""
    return _status_page(_status_ticket(token), token)


@bp.post("/service/status/<token>/<action>")
@csrf.exempt
def status_action(token: str, action: str):  # type: ignore[no-untyped-def]
    """Add information or a photo, move the visit or cancel, from the status page.

    A photo may be up to the attachment store's 10 MB, above the app's request limit, so this
    view raises the limit for a photo and checks the CSRF token once the form is read.
    """
    if action not in ACTIONS:
        raise NotFound("this page does not exist")
    ticket = _status_ticket(token)
    if action == "photo":
        request.max_content_length = attachments.MAX_BYTES + FORM_OVERHEAD
        try:
            request.files.get("photo")
        except RequestEntityTooLarge:
            text = _("The photo is larger than {mb} MB; nothing was kept.", mb=attachments.MAX_BYTES // 2**20)
            return _status_page(ticket, token, {"photo": text}, 413)
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    limits.check("status", ticket)
    services = get_services()
    try:
        with services.db.transaction() as s:
            view = readmodels.public_status(s, services.runtime.specs, ticket, None)
            if not view.open:
                raise _Refused("form", "This request is closed; it can no longer be changed.")
            notice = ACTIONS[action](s, view)
    except _Refused as exc:
        return _status_page(ticket, token, {exc.field: exc.text}, 422)
    except MessageNotCorrelated:
        return _status_page(ticket, token, {"form": _("This request is closed; it can no longer be changed.")}, 409)
    except AftersalesError as exc:  # a handler refused the value: show it on its field
        if exc.http_status >= 500:
            raise
        field = str(exc.details.get("field") or "form")
        text = exc.details.get("text")
        message = _(text, **exc.details.get("values", {})) if isinstance(text, str) else error_text(exc)
        return _status_page(ticket, token, {field: message}, 422)
    return _status_page(ticket, token, notice=notice)


class _Refused(Exception):
    """A value of the status page's forms is missing or wrong (shown on its field)."""

    def __init__(self, field: str, text: str, **values: Any) -> None:
        super().__init__(text)
        self.field, self.text = field, _(text, **values)


def _status_ticket(token: str) -> str:
    action = tokens.verify(token)
    if action.message != STATUS:
        raise NotFound("this link is not valid")
    return action.ticket


def _status_page(ticket: str, token: str, errors: dict[str, str] | None = None, code: int = 200,
                 notice: str | None = None):  # type: ignore[no-untyped-def]
    services = get_services()
    with services.db.transaction(write=False) as s:
        view = readmodels.public_status(s, services.runtime.specs, ticket, None)
    links = {m: tokens.action_url(view.ticket, m) for m in view.actions}
    return render_template("public/status.html", view=view, links=links, token=token, errors=errors or {},
                           windows=view.appointment.get("windows", []), notice=notice,
                           typed=request.form if errors and code != 413 else {}), code  # 413: form unread


def _text(name: str, empty: str) -> str:
    text = request.form.get(name, "").strip()
    if not text:
        raise _Refused(name, empty)
    if len(text) > TEXT_LIMIT:
        raise _Refused(name, "Please write at most {limit} characters.", limit=TEXT_LIMIT)
    return text


def _add_information(s: Any, view: readmodels.PublicStatus) -> str:
    text = _text("text", "Write what you would like to add.")
    get_services().runtime.deliver_message(s, "customer_contact", view.ticket, {
        "channel": "web", "fault": {"description": text}}, sender=Sender.customer())
    return _("Thank you. We added your information to the request; an agent will read it.")


def _add_photo(s: Any, view: readmodels.PublicStatus) -> str:
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        raise _Refused("photo", "Choose a photo to send.")
    content = upload.read(attachments.MAX_BYTES + 1)
    try:
        attachments.add_attachment(s, view.ticket, upload.filename, content, upload.mimetype, "customer",
                                   source="customer")
    except AftersalesError as exc:
        reason = error_text(exc).removeprefix("file: ").removeprefix("文件：")  # the field is named already
        raise _Refused("photo", "This file cannot be added: {reason}", reason=reason) from exc
    return _("Thank you. We added your photo to the request.")


def _move_visit(s: Any, view: readmodels.PublicStatus) -> str:
    if not view.appointment:
        raise _Refused("window", "This request has no appointment to move.")
    chosen = request.form.get("window", "")
    try:
        start, end = (datetime.fromisoformat(part) for part in chosen.split("|", 1))
    except ValueError:
        raise _Refused("window", "Choose one of the offered times.") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise _Refused("window", "Choose one of the offered times.")
    if end <= start:
        raise _Refused("window", "The window must end after it starts.")
    moved = ticketing.customer_moves_visit(s, view.ticket, start, end, clock.now())
    when = start.astimezone(business_timezone()).strftime("%Y-%m-%d %H:%M")
    return _("Your appointment is now on {start} with {technician}.", start=when, technician=moved["technician"])


def _cancel(s: Any, view: readmodels.PublicStatus) -> str:
    reason = _text("reason", "Tell us why you cancel the request.")
    if len(reason) > 1000:
        raise _Refused("reason", "Please write at most {limit} characters.", limit=1000)
    get_services().runtime.deliver_message(s, "customer_cancel", view.ticket, {"reason": reason},
                                           sender=Sender.customer())
    return _("Your request is cancelled. We sent you a confirmation.")


ACTIONS = {"info": _add_information, "photo": _add_photo, "window": _move_visit, "cancel": _cancel}


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

