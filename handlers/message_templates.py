"""Filling the bundle's message templates from a ticket, in the customer's language.

The templates are files of the deployment new instances of the ticket's process use (see
:mod:`engine.message_templates`), so a process owner changes them by redeploying. The values come
from the ticket's records: the customer's current contact, the product, the open technician visit,
the earliest open back-order, and the agent who writes. A template that needs a value the ticket
does not have yet (no visit booked, no part on back-order) is refused on the ``template`` field,
naming what is missing; an unknown template likewise. Nothing is written here: the agent sees the
filled text, may edit it, and sends it through :func:`handlers.ticket_notes.message_customer`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import forms
from engine.errors import FormValidationError, HandlerError, NotFound
from engine.message_templates import BASE_LANGUAGE, INDEX, PLACEHOLDERS, read_index, split_subject, template_path
from engine.models import Instance
from engine.pilots import find_definition

from . import ticketing
from .customer_links import links_for
from .demo import catalogue_texts
from .parts import Backorder
from .templates import local_time, render
from .ticket_notes import refuse

#: what the agent is told when a template needs a value the ticket does not have yet
MISSING = {
    "appointment_start": "This ticket has no technician visit booked yet, so this template cannot be filled.",
    "appointment_end": "This ticket has no technician visit booked yet, so this template cannot be filled.",
    "technician_name": "This ticket has no technician visit booked yet, so this template cannot be filled.",
    "parts_eta": "This ticket has no part on back-order, so this template cannot be filled.",
}
UNKNOWN = "Choose a template from the list."
#: characters of the GSM 7-bit alphabet (one SMS: 160 of them; else 70 UCS-2 characters)
_GSM = re.compile(r"^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ!\"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\\[~\]|€]*$")


@dataclass(frozen=True)
class Filled:
    """A template filled for one ticket: what the agent sees and may edit before sending."""

    name: str
    language: str
    subject: str
    body: str
    path: str


def templates_of(session: Session, instance: Instance) -> tuple[int, dict[str, dict[str, str]]]:
    """Return the deployment whose templates a ticket uses (its process's current one) and its index."""
    try:
        deployment_id = find_definition(session, instance.process_id).deployment_id
    except NotFound:
        deployment_id = instance.deployment_id
    try:
        return deployment_id, read_index(forms.load_file(session, deployment_id, INDEX))
    except NotFound:
        return deployment_id, {}


def customer_language(contact: dict[str, Any], session: Session, deployment_id: int, name: str) -> str:
    """Return the language the customer reads the template in (English when the bundle lacks theirs)."""
    language = str(contact.get("language") or BASE_LANGUAGE)
    try:
        forms.load_file(session, deployment_id, template_path(name, language))
    except NotFound:
        return BASE_LANGUAGE
    return language


def ticket_values(session: Session, ticket: str, contact: dict[str, Any], language: str,
                  agent_name: str) -> dict[str, str]:
    """Return the placeholders' values for ``ticket`` in ``language`` (those the ticket has)."""
    values = {"ticket_number": ticket, "customer_name": str(contact.get("name") or ""), "agent_name": agent_name,
              "status_link": links_for(session, ticket, "message", language=language)["status"]}
    words = catalogue_texts(language=language)
    record = ticketing.get_ticket(session, ticket)
    if record is not None:
        model = record.product.model
        values |= {"product_model": model, "product_name": words.get(f"model:{model}") or model,
                   "serial_number": record.product.serial_number}
    visit = ticketing.open_visit(session, ticket)
    if visit is not None:
        from .dispatch import Technician  # dispatch imports ticketing, which this module needs first

        tech = session.get(Technician, visit.technician)
        tech_name = tech.name if tech is not None else visit.technician
        values |= {"appointment_start": local_time(visit.starts_at),
                   "appointment_end": local_time(visit.ends_at, "%H:%M"),
                   "technician_name": words.get(tech_name, tech_name)}
    eta = session.scalars(select(Backorder.eta).where(Backorder.ticket_number == ticket, Backorder.status == "open")
                          .order_by(Backorder.eta).limit(1)).first()
    if eta is not None:
        values["parts_eta"] = eta.isoformat()
    return values


def fill(session: Session, deployment_id: int, index: dict[str, dict[str, str]], name: str, language: str,
         values: dict[str, str]) -> Filled:
    """Fill template ``name`` in ``language``; refuse an unknown template or a value the ticket lacks."""
    if name not in index:
        raise refuse("template", UNKNOWN)
    path = template_path(name, language)
    try:
        source = forms.load_file(session, deployment_id, path).decode("utf-8")
        text = render(source, path, {k: v for k, v in values.items() if k in PLACEHOLDERS})
    except (NotFound, UnicodeDecodeError):
        raise refuse("template", UNKNOWN) from None
    except HandlerError as exc:
        missing = str(exc.details.get("variable") or "")
        raise refuse("template", MISSING.get(missing, UNKNOWN)) from None
    subject, body = split_subject(text)
    return Filled(name, language, subject, body, path)


def fill_all(session: Session, deployment_id: int, index: dict[str, dict[str, str]], language: str,
             values: dict[str, str]) -> dict[str, Filled | str]:
    """Return every template filled for the ticket, or the reason it cannot be (what the picker offers)."""
    out: dict[str, Filled | str] = {}
    for name in index:
        try:
            out[name] = fill(session, deployment_id, index, name, language, values)
        except FormValidationError as exc:
            out[name] = exc.errors[0].message
    return out


def sms_parts(text: str) -> tuple[int, int]:
    """Return how many characters ``text`` has and how many SMS it takes (GSM 160/153, else 70/67)."""
    length = len(text)
    single, multi = (160, 153) if _GSM.match(text) else (70, 67)
    return length, 0 if length == 0 else 1 if length <= single else -(-length // multi)
