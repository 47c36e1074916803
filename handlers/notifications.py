"""Customer notifications at each milestone, from the deployment's templates, via the outbox.

Templates live in the process bundle as ``templates/notify/<milestone>.<channel>.<lang>.j2``
(channels ``email``, ``sms``, ``wechat``; languages ``en``, ``zh``): process owners edit
and redeploy them like BPMN. The customer's preferred channel is used when the customer
has an address for it (else e-mail, then SMS), in the customer's language when a
template exists for it (else English). An e-mail template starts with a ``Subject:``
line. The rendered message goes to the outbox in the engine's transaction; the
dispatcher (:mod:`handlers.outbox`) delivers it after commit. Every template gets ``links``
(:func:`handlers.customer_links.links_for`): absolute, signed links to the customer's own pages —
the status page, and the page that answers what the message asks (a quote, the repair).

Staff may edit the customer's phone, e-mail or address on the ticket page
(:func:`handlers.ticket_notes.change_contact`); from then on the edited value wins over the
contact in the process data (:func:`current_contact`), and the result names the fields taken
from the edit (``contact_edited``), so the audit trail shows why the address differs.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.registry import BusinessError, HandlerContext, handler

from .customer_links import ANSWERS, links_for
from .idempotency import idempotent
from .outbox import Outbox, stamp_message_id
from .templates import find_template, render
from .values import invalid, mapping, required_text

CHANNELS = ("email", "sms", "wechat")
LANGUAGES = ("en", "zh")
MILESTONE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def address_for(customer: dict[str, Any], channel: str) -> str | None:
    """Return the customer's address on ``channel`` (e-mail, phone, WeChat id), if any."""
    if channel == "email":
        value = customer.get("email")
    elif channel == "wechat":
        value = customer.get("wechat_id") or customer.get("phone")
    else:
        value = customer.get("phone")
    return value.strip() if isinstance(value, str) and value.strip() else None


def choose_channel(customer: dict[str, Any]) -> tuple[str, str] | None:
    """Return ``(channel, address)``: the preferred channel if reachable, else e-mail, else SMS."""
    preferred = customer.get("preferred_channel")
    order = ([preferred] if preferred in CHANNELS else []) + ["email", "sms"]
    for channel in dict.fromkeys(order):
        address = address_for(customer, channel)
        if address:
            return channel, address
    return None


def current_contact(session: Session, ticket: str, customer: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the customer's contact for ``ticket``: the process data's, with the values staff edited on
    the ticket page (phone, e-mail, address from the customer record) in place; and the edited fields."""
    from . import ticket_notes  # ticket_notes sends through this module, so it is imported here

    edits = session.scalars(select(ticket_notes.TicketActivity.details).where(
        ticket_notes.TicketActivity.ticket_number == ticket, ticket_notes.TicketActivity.kind == "contact"))
    edited = sorted({f for details in edits for f in (details or {}) if f in ("phone", "email", "address")})
    record = ticket_notes.customer_of(session, ticket) if edited else None
    if record is None:
        return customer, []
    values = {"phone": record.phone or "", "email": record.email or "",
              "address": ticket_notes.address_of(session, record.id)}
    return {**customer, **{f: values[f] for f in edited}}, edited


def split_subject(text: str, fallback: str) -> tuple[str, str]:
    """Split an e-mail template's output into its ``Subject:`` line and the body."""
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return first[len("subject:"):].strip(), rest.strip()
    return fallback, text


@handler("notify.send")
@idempotent
def send(ctx: HandlerContext, ticket_number: str, milestone: str, customer: dict[str, Any],
         data: dict[str, Any]) -> dict[str, Any]:
    """Notify the customer of a milestone on their channel and language, through the outbox.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    milestone: the milestone to tell about, lower-case, e.g. received, quote, scheduled, resolved, closed
    customer: the customer object; "preferred_channel", "email"/"phone" and "language" (en/zh) decide how
    data: what the template shows, e.g. the quote (an object, may be empty); "asks": an answer's link (links.respond)
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    if not isinstance(milestone, str) or not MILESTONE.match(milestone):
        raise invalid("milestone", f"milestone must be a lower-case name like 'received', got {milestone!r}")
    mapping(customer, "customer")
    details = mapping(data if data is not None else {}, "data")
    asks = details.get("asks") or None
    if asks is not None and asks not in ANSWERS:
        raise invalid("data.asks", f"data.asks names the answer the message asks for, one of {', '.join(ANSWERS)} "
                                   f"(or empty), got {asks!r}")
    customer, edited = current_contact(ctx.session, ticket, customer)
    reachable = choose_channel(customer)
    if reachable is None:
        return {"outbox_id": None, "channel": None, "template": None,
                "skipped": "the customer has no e-mail address or phone number"}
    channel, address = reachable
    language = customer.get("language") if customer.get("language") in LANGUAGES else "en"
    links = links_for(ctx.session, ticket, milestone, asks, language)
    candidates = [f"templates/notify/{milestone}.{channel}.{lang}.j2" for lang in dict.fromkeys((language, "en"))]
    found = find_template(ctx, candidates)
    if found is None:
        raise BusinessError("TEMPLATE_MISSING", f"no template for milestone {milestone!r} on channel {channel!r} "
                            f"(looked for {', '.join(candidates)})",
                            {"milestone": milestone, "channel": channel, "language": language})
    path, source = found
    text = render(source, path, {"ticket_number": ticket, "milestone": milestone, "customer": customer,
                                 "data": _customer_data(_names_in(details, language), links), "links": links})
    subject, body = split_subject(text, f"{ticket}: {milestone}") if channel == "email" else ("", text)
    row = Outbox(ticket_number=ticket, milestone=milestone, channel=channel, recipient=address,
                 language=language if path == candidates[0] else "en", template=path, subject=subject, body=body,
                 instance_id=ctx.instance_id, status="pending", attempts=0, next_attempt_at=ctx.now,
                 created_at=ctx.now)
    stamp_message_id(ctx.session, row)
    result = {"outbox_id": row.id, "channel": channel, "template": path}
    return {**result, "contact_edited": edited} if edited else result


def sent_for(session: Session, ticket_number: str) -> list[dict[str, Any]]:
    """Return the notifications of a ticket, oldest first, as the staff UI shows them."""
    rows = session.scalars(select(Outbox).where(Outbox.ticket_number == ticket_number).order_by(Outbox.id))
    return [{"id": r.id, "milestone": r.milestone, "channel": r.channel, "language": r.language,
             "template": r.template, "subject": r.subject, "body": r.body, "status": r.status,
             "attempts": r.attempts, "created_at": r.created_at, "delivered_at": r.delivered_at,
             "last_error": r.last_error} for r in rows]


def _customer_data(details: dict[str, Any], links: dict[str, Any]) -> dict[str, Any]:
    """Return ``details`` with the quote's document at the customer's own page: ``quote.prepare``'s
    ``document_url`` is the staff page (a login), which a bundle deployed before may still show."""
    if "document_url" in details and "quote" in links:
        return {**details, "document_url": links["quote"]}
    return details


NAMED = ("technician_name", "provider_name")  # catalogue names a message to the customer carries


def _names_in(details: dict[str, Any], language: str) -> dict[str, Any]:
    """Return ``details`` with the catalogue's people and partners named as ``language`` names them
    (王磊 for a Chinese customer, Wang Lei for an English one)."""
    from .demo import catalogue_texts  # demo imports the loaders of modules that import this one

    words = catalogue_texts(language=language) if language != "en" else {}
    return {key: words.get(value, value) if key in NAMED and isinstance(value, str) else value
            for key, value in details.items()}
