"""New service requests: the intake form for every channel, with a repeat-contact warning.

Staff fill in the form of the process's own first task (``INTAKE_FORM`` of the deployed
``INTAKE_PROCESS``, ``register_request`` in ``processes/forms``); submitting starts the
process and completes that first task with the same data, so the agent fills one form.
Customers on the self-service site fill a shorter form (``web/forms/intake.schema.json``):
the process numbers and acknowledges their request as it arrives, and the ticket waits in
the agents' queue for triage, pre-filled. A request the process recognises as a repeat
contact is attached to the open ticket and passed on to its agents (message
``customer_contact``), from the web and the API alike. Data keys follow ``docs/operators.md``.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for

import readmodels
from engine import clock, forms
from engine.errors import FieldError, FormValidationError, MessageNotCorrelated, NotFound
from engine.identity import Actor
from engine.message_contracts import Sender
from handlers import knowledge
from handlers.values import local_date
from readmodels.caller import CallerLookup, lookup_caller

from . import formdata, formgen, get_services
from .access import INTAKE, current_actor, roles_required
from .i18n import current_language, use_bundle_texts
from .i18n import translate as _
from .rendering import display_tz

bp = Blueprint("intake", __name__)
FORMS = Path(__file__).parent / "forms"


@cache
def load_form(name: str) -> dict[str, Any]:
    """Return a JSON form file of ``web/forms`` (cached)."""
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


@cache
def catalogue(folder: Path, language: str) -> dict[str, list[dict[str, str]]]:
    """Return models and symptom codes of the process data (``processes/data``) as enum choices."""
    out: dict[str, list[dict[str, str]]] = {}
    lines = folder / "product_lines.json"
    if lines.is_file():
        records = json.loads(lines.read_text(encoding="utf-8")).get("product_lines", [])
        models = [m for line in records for m in line.get("models", [])]
        # a Chinese reader sees the model's name_zh (customers on the public form too)
        named = [(m["code"], m.get(f"name_{language}") or m.get("name", "")) for m in models]
        out["models"] = [{"const": code, "title": f"{code} · {name}"} for code, name in named]
    rules = folder / "diagnosis_rules.json"
    if rules.is_file():
        symptoms = json.loads(rules.read_text(encoding="utf-8")).get("symptoms", {})
        out["symptoms"] = [{"const": code, "title": str(label.get(language) or label.get("en") or code)}
                           for code, label in symptoms.items() if isinstance(label, dict)]
    return out


def _with_catalogue(schema: dict[str, Any]) -> dict[str, Any]:
    known = catalogue(get_services().settings.processes_dir / "data", current_language())
    props = schema.get("properties", {})
    model = props.get("product", {}).get("properties", {}).get("model")
    if known.get("models") and isinstance(model, dict) and "oneOf" not in model and "enum" not in model:
        model["oneOf"] = known["models"]
    symptoms = props.get("fault", {}).get("properties", {}).get("symptoms")
    if known.get("symptoms") and isinstance(symptoms, dict):
        symptoms["items"] = {"type": "string", "oneOf": known["symptoms"]}
    return schema


def staff_form() -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Return the staff intake schema, uiSchema and the process form it is (None: the built-in one)."""
    config = current_app.config
    try:
        with get_services().db.transaction(write=False) as s:
            schema = readmodels.deployed_form(s, config["INTAKE_PROCESS"], config["INTAKE_FORM"])
            ui = readmodels.deployed_form(s, config["INTAKE_PROCESS"], config["INTAKE_UI_FORM"])
            use_bundle_texts(readmodels.deployed_texts(s, config["INTAKE_PROCESS"], current_language()))
        return _with_catalogue(copy.deepcopy(schema)), copy.deepcopy(ui), config["INTAKE_FORM"]
    except NotFound:
        return _with_catalogue(copy.deepcopy(load_form("intake.schema.json"))), load_form("intake.uischema.json"), None


def public_form() -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the customers' request schema and uiSchema (no channel, tier or internal fields)."""
    schema = _with_catalogue(copy.deepcopy(load_form("intake.schema.json")))
    del schema["properties"]["channel"]
    schema["required"].remove("channel")
    del schema["properties"]["customer"]["properties"]["tier"]
    schema["properties"]["expectation"]["title"] = "What would you like us to do?"
    return schema, load_form("intake.uischema.json")


def submitted(schema: dict[str, Any], ui: dict[str, Any]) -> dict[str, Any]:
    """Return the typed values of the submitted intake form."""
    return formdata.parse(schema, ui, request.form, {}, display_tz())


def prepare_request(schema: dict[str, Any], values: dict[str, Any], public: bool) -> dict[str, Any]:
    """Validate intake values and complete them into the process's start data."""
    errors: list[FieldError] = []
    try:
        forms.validate(schema, values, where="the request form")
    except FormValidationError as exc:
        errors = exc.errors
    bought = (values.get("product") or {}).get("purchase_date")
    if isinstance(bought, str) and bought and bought > local_date(clock.now()).isoformat() \
            and not any(e.field in ("product/purchase_date", "product.purchase_date") for e in errors):
        errors.append(FieldError("product.purchase_date", _("The purchase date cannot be in the future.")))
    if errors:  # every error in one round, the future purchase date with the others
        raise FormValidationError("the form of {where} has {count} error", errors,
                                  plural="the form of {where} has {count} errors",
                                  params={"where": "the request form", "count": len(errors)})
    data = copy.deepcopy(values)
    customer = data.setdefault("customer", {})
    if public:
        data["channel"] = "web"
        customer.setdefault("language", current_language())
        customer.setdefault("preferred_channel", "email" if customer.get("email") else "sms")
    customer.setdefault("tier", "normal")
    data["customer_tier"] = customer["tier"]
    data.setdefault("fault", {}).setdefault("symptoms", [])
    data.setdefault("expectation", "")
    return data


def pass_on_contact(session: Any, runtime: Any, ticket: str, data: dict[str, Any], sender: Sender) -> bool:
    """Tell the open ticket's agents about a repeat contact (message ``customer_contact``).

    Return False when the ticket's process no longer listens (the contact stays on the ticket)."""
    fault = data.get("fault") if isinstance(data.get("fault"), dict) else {}
    said: dict[str, Any] = {"description": str(fault.get("description") or "").strip()[:4000] or "–"}
    said["symptoms"] = sorted({str(s)[:64] for s in fault.get("symptoms") or [] if isinstance(s, str)})
    if fault.get("category") in ("hardware", "software", "usage", "complaint"):
        said["category"] = fault["category"]
    channel = data.get("channel") if data.get("channel") in ("hotline", "web", "chat", "email", "walk_in") else "web"
    try:
        with session.begin_nested():
            runtime.deliver_message(session, "customer_contact", ticket, {"channel": channel, "fault": said},
                                    sender=sender)
    except MessageNotCorrelated:
        return False
    return True


def start_request(data: dict[str, Any], actor: Actor | None, intake_form: str | None = None,
                  form_data: dict[str, Any] | None = None) -> tuple[str | None, str | None, bool]:
    """Start the intake process; return the ticket number, the actor's next task and whether the
    request was a repeat contact attached to an open ticket (its agents are told)."""
    services = get_services()
    with services.db.transaction() as s:
        _id, ticket, following = readmodels.start_and_register(
            s, services.runtime, current_app.config["INTAKE_PROCESS"], data, actor, intake_form, form_data)
        attached = False
        if ticket is None:  # the process attached the contact to the open ticket
            ticket = readmodels.open_duplicate(s, data.get("customer", {}), data.get("product", {}))
            attached = ticket is not None
            if ticket is not None:
                sender = Sender.acting(actor) if actor is not None else Sender.customer()
                pass_on_contact(s, services.runtime, ticket, data, sender)
    return ticket, following, attached


def render_form(template: str, schema: dict[str, Any], ui: dict[str, Any], values: dict[str, Any],
                errors: FormValidationError | None = None, status: int = 200, **extra: Any):  # type: ignore[no-untyped-def]
    """Render an intake page with its fields, values and errors."""
    by_name, general = formdata.field_errors(errors.errors) if errors else ({}, [])
    fields = formgen.build(schema, ui, values, by_name, display_tz())
    return render_template(template, fields=fields, general_errors=general,
                           error_count=len(by_name) + len(general), **extra), status


def deflections() -> dict[str, Any]:
    """Return how many requests the knowledge base deflected in the last 30 days (staff see it)."""
    with get_services().db.transaction(write=False) as s:
        return knowledge.deflection_counts(s, clock.now() - timedelta(days=30))


@bp.route("/requests/new", methods=["GET", "POST"])
@roles_required(INTAKE)
def new():  # type: ignore[no-untyped-def]
    """Register a customer's request from any channel."""
    schema, ui, process_form = staff_form()
    if request.method == "GET":
        defaults: dict[str, Any] = {"channel": request.args.get("channel", "hotline"), "customer": {"tier": "normal"}}
        if "lookup" not in request.args:
            return render_form("intake/new.html", schema, ui, defaults, deflections=deflections())
        caller, errors = look_up_caller()
        if caller is not None and caller.found:
            defaults = {"channel": defaults["channel"], **caller.values}
        return render_form("intake/new.html", schema, ui, defaults, status=422 if errors else 200,
                           deflections=deflections(), caller=caller, lookup=request.args.get("lookup", ""),
                           lookup_errors=errors)
    values = submitted(schema, ui)
    try:
        data = prepare_request(schema, values, public=False)
    except FormValidationError as exc:
        return render_form("intake/new.html", schema, ui, values, exc, 422)
    serial = str(data.get("product", {}).get("serial_number", ""))
    if request.form.get("confirm_duplicate") != serial:
        with get_services().db.transaction(write=False) as s:
            duplicate = readmodels.open_duplicate(s, data.get("customer", {}), data.get("product", {}))
        if duplicate:
            return render_form("intake/new.html", schema, ui, values, duplicate=duplicate, confirm=serial)
    ticket, following, attached = start_request(data, current_actor(), process_form, values)
    if attached:
        flash(_("The contact was added to {ticket}.", ticket=ticket or "–"), "ok")
    else:
        flash(_("Request registered as {ticket}.", ticket=ticket or "–"), "ok")
    if following:
        return redirect(url_for("task.show", task_id=following))
    return redirect(url_for("tickets.show", key=ticket) if ticket else url_for("tasks.tasklist"))


def look_up_caller() -> tuple[CallerLookup | None, dict[str, str]]:
    """Look the caller up by the request's ``lookup`` (phone or e-mail) and ``product``; errors by field."""
    try:
        product = int(request.args.get("product") or 0) or None
    except ValueError:
        product = None
    services = get_services()
    try:
        with services.db.transaction(write=False) as s:
            return lookup_caller(s, services.runtime.specs, current_actor(), request.args.get("lookup", ""),
                                 product), {}
    except FormValidationError as exc:
        return None, {e.field: formdata.said(e) for e in exc.errors}


@bp.get("/requests/lookup")
@roles_required(INTAKE)
def lookup():  # type: ignore[no-untyped-def]
    """Look a caller up for the intake form's script: the form values, and the caller panel as HTML."""
    caller, errors = look_up_caller()
    panel = render_template("intake/_caller.html", caller=caller, lookup=request.args.get("lookup", ""),
                            lookup_errors=errors)
    values = flat(caller.values) if caller is not None and caller.found else {}
    return jsonify({"found": bool(caller and caller.found), "values": values, "panel": panel,
                    "errors": errors}), 422 if errors else 200


def flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return nested form values keyed by the form's field names (``customer.name``)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        out |= flat(value, f"{name}.") if isinstance(value, dict) else {name: value}
    return out
