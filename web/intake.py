"""New service requests: the agents' intake form for every channel, with a duplicate warning.

The same form, without the agent-only fields, serves customers on the self-service site
(:mod:`web.selfservice`). Both start the ``INTAKE_PROCESS`` (``after_sales``) with the data
keys of ``docs/operators.md``.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine import forms, ui_queries
from engine.errors import FormValidationError
from engine.identity import Actor

from . import formdata, formgen, get_services
from .access import INTAKE, current_actor, roles_required
from .i18n import current_language
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
        out["models"] = [{"const": m["code"], "title": f"{m['code']} · {m.get('name', '')}"}
                         for line in records for m in line.get("models", [])]
    rules = folder / "diagnosis_rules.json"
    if rules.is_file():
        symptoms = json.loads(rules.read_text(encoding="utf-8")).get("symptoms", {})
        out["symptoms"] = [{"const": code, "title": str(label.get(language) or label.get("en") or code)}
                           for code, label in symptoms.items() if isinstance(label, dict)]
    return out


def intake_form(public: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the intake schema and uiSchema; the public one has no channel or tier."""
    schema, ui = copy.deepcopy(load_form("intake.schema.json")), copy.deepcopy(load_form("intake.uischema.json"))
    known = catalogue(get_services().settings.processes_dir / "data", current_language())
    props = schema["properties"]
    if known.get("models"):
        props["product"]["properties"]["model"]["oneOf"] = known["models"]
    if known.get("symptoms"):
        props["fault"]["properties"]["symptoms"]["items"] = {"type": "string", "oneOf": known["symptoms"]}
    if public:
        del schema["properties"]["channel"]
        schema["required"].remove("channel")
        del schema["properties"]["customer"]["properties"]["tier"]
        schema["properties"]["expectation"]["title"] = "What would you like us to do?"
    return schema, ui


def submitted(schema: dict[str, Any], ui: dict[str, Any]) -> dict[str, Any]:
    """Return the typed values of the submitted intake form."""
    return formdata.parse(schema, ui, request.form, {}, display_tz())


def prepare_request(schema: dict[str, Any], values: dict[str, Any], public: bool) -> dict[str, Any]:
    """Validate intake values and complete them into the process's start data."""
    forms.validate(schema, values, where="the request form")
    data = copy.deepcopy(values)
    if public:
        data["channel"] = "web"
    customer = data.setdefault("customer", {})
    customer.setdefault("tier", "normal")
    data["customer_tier"] = customer["tier"]
    data.setdefault("fault", {}).setdefault("symptoms", [])
    data.setdefault("expectation", "")
    return data


def start_request(data: dict[str, Any], actor: Actor | None) -> tuple[str | None, str | None]:
    """Start the intake process; return the ticket number and the actor's first task, if any."""
    services = get_services()
    with services.db.transaction() as s:
        started = services.runtime.start(
            s,
            current_app.config["INTAKE_PROCESS"],
            data,
            actor=actor.username if actor else "customer",
        )
        ticket = ui_queries.business_key_of(s, started.instance_id)
        first = ui_queries.next_task_for(s, actor, started.instance_id) if actor else None
    return ticket, first


def render_form(
    template: str,
    schema: dict[str, Any],
    ui: dict[str, Any],
    values: dict[str, Any],
    errors: FormValidationError | None = None,
    status: int = 200,
    **extra: Any,
):  # type: ignore[no-untyped-def]
    """Render an intake page with its fields, values and errors."""
    by_name, general = formdata.field_errors(errors.errors) if errors else ({}, [])
    fields = formgen.build(schema, ui, values, by_name)
    return render_template(
        template,
        fields=fields,
        general_errors=general,
        error_count=len(by_name) + len(general),
        **extra,
    ), status


@bp.route("/requests/new", methods=["GET", "POST"])
@roles_required(INTAKE)
def new():  # type: ignore[no-untyped-def]
    """Register a customer's request from any channel."""
    schema, ui = intake_form(public=False)
    if request.method == "GET":
        return render_form(
            "intake/new.html", schema, ui, {"channel": request.args.get("channel", "hotline")}
        )
    values = submitted(schema, ui)
    try:
        data = prepare_request(schema, values, public=False)
    except FormValidationError as exc:
        return render_form("intake/new.html", schema, ui, values, exc, 422)
    if request.form.get("confirm_duplicate") != data["product"].get("serial_number"):
        with get_services().db.transaction(write=False) as s:
            duplicate = ui_queries.open_duplicate(s, data["customer"], data["product"])
        if duplicate:
            return render_form(
                "intake/new.html",
                schema,
                ui,
                data,
                duplicate=duplicate,
                confirm=data["product"].get("serial_number"),
            )
    ticket, first = start_request(data, current_actor())
    flash(_("Request registered as {ticket}.", ticket=ticket or "–"), "ok")
    if first:
        return redirect(url_for("task.show", task_id=first))
    return redirect(url_for("tickets.show", key=ticket) if ticket else url_for("tasks.tasklist"))
