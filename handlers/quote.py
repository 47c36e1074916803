"""Quotes: parts, labour and call-out fee with warranty coverage applied, and a printable document.

Amounts are :class:`Decimal`, each line rounded half-up to cents. Coverage decides what
the customer pays: ``full`` covers everything, ``parts_only`` covers parts (and a
replacement unit) but not labour or call-out, ``none`` covers nothing. A concession — a
goodwill gesture or an out-of-warranty exception, set by the agent and approved by a
supervisor in the process — then takes a share (percent) or an amount off what is left,
as a line of its own, never more than the customer would pay. The HTML document
is rendered from the deployment's ``templates/quote/document.<language>.html.j2`` with
autoescape on, stored with the quote, and served by the web layer at ``document_url``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from engine.registry import HandlerContext, handler

from .idempotency import idempotent
from .parts import parse_items, require_parts
from .templates import find_template, render
from .ticketing import get_ticket
from .values import Money, format_money, invalid, non_negative_decimal, one_of, to_money
from .warranty import get_model

COVERAGES = ("full", "parts_only", "none")
CONCESSIONS = {"goodwill": ("Goodwill", "商誉优惠"),
               "out_of_warranty_exception": ("Out-of-warranty exception", "保外特批")}
SOLUTIONS = ("repair", "replace", "refund")
VALID_DAYS = 14
ZERO = Decimal("0.00")


class Rate(Base):
    """Labour rate per hour and call-out fee for a product line (``default`` for the rest)."""

    __tablename__ = "quote_rate"

    product_line: Mapped[str] = mapped_column(String(32), primary_key=True)
    labour_rate: Mapped[Decimal] = mapped_column(Money)
    callout_fee: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))


class Quote(Base):
    """A priced quote for a ticket, with its printable document."""

    __tablename__ = "quote"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    solution: Mapped[str] = mapped_column(String(16))
    coverage: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    parts_total: Mapped[Decimal] = mapped_column(Money)
    labour_total: Mapped[Decimal] = mapped_column(Money)
    callout_fee: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    covered: Mapped[Decimal] = mapped_column(Money)
    customer_pays: Mapped[Decimal] = mapped_column(Money)
    lines: Mapped[list[Any]]
    document_html: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[datetime]
    created_at: Mapped[datetime]


def _line(kind: str, description: str, quantity: Decimal | int, unit_price: Decimal, covered: bool,
          sku: str | None = None, description_zh: str = "") -> dict[str, Any]:
    return {"kind": kind, "sku": sku, "description": description, "description_zh": description_zh or description,
            "quantity": str(quantity),
            "unit_price": format_money(unit_price), "amount": to_money(Decimal(quantity) * unit_price, "amount"),
            "covered": covered}


def get_rate(session: Session, product_line: str | None) -> Rate:
    """Return the rates of a product line, or the ``default`` rates."""
    rate = session.get(Rate, product_line) if product_line else None
    rate = rate or session.get(Rate, "default")
    if rate is None:
        raise invalid("coverage", "no labour rates are set up: load the catalogue first")
    return rate


def price_lines(session: Session, coverage: str, solution: str, wanted: dict[str, int], hours: Decimal,
                callout: bool, model_code: str) -> tuple[list[dict[str, Any]], str]:
    """Return the quote lines (amounts as Decimal) and the currency for a solution."""
    model = get_model(session, model_code)
    rate = get_rate(session, model.product_line if model else None)
    if solution == "refund":
        return [], rate.currency
    catalogue = require_parts(session, wanted)
    parts_covered = coverage in ("full", "parts_only")
    lines = [_line("part", catalogue[sku].name, qty, catalogue[sku].price, parts_covered, sku, catalogue[sku].name_zh)
             for sku, qty in wanted.items()]
    if solution == "replace":
        if model is None:
            raise invalid("solution", f"cannot quote a replacement: model {model_code!r} is not in the catalogue")
        lines.append(_line("unit", f"Replacement unit {model.code} ({model.name})", 1, model.list_price,
                           parts_covered, model.code, f"更换整机 {model.code}"))
    if hours:
        lines.append(_line("labour", f"Labour {hours} h", hours, rate.labour_rate, coverage == "full",
                           description_zh=f"人工 {hours} 小时"))
    if callout:
        lines.append(_line("callout", "Call-out fee (field visit)", 1, rate.callout_fee, coverage == "full",
                           description_zh="上门费"))
    return lines, rate.currency


def _totals(lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    def total(kinds: tuple[str, ...]) -> Decimal:
        return sum((line["amount"] for line in lines if line["kind"] in kinds), ZERO)

    grand = total(("part", "unit", "labour", "callout"))
    covered = sum((line["amount"] for line in lines if line["covered"]), ZERO)
    concession = -total(("concession",))
    return {"parts_total": total(("part", "unit")), "labour_total": total(("labour",)),
            "callout_fee": total(("callout",)), "total": grand, "covered": covered, "concession": concession,
            "customer_pays": grand - covered - concession}


def concession_line(concession: dict[str, Any] | None, owed: Decimal) -> dict[str, Any] | None:
    """Return the line a goodwill gesture or out-of-warranty exception takes off ``owed`` (None: none).

    ``concession`` is ``{"reason": "goodwill" | "out_of_warranty_exception", "share": percent}``
    or ``{"reason": …, "amount": money}``; the line never takes off more than ``owed``.
    """
    if not concession:
        return None
    reason = concession.get("reason")
    one_of(reason, tuple(CONCESSIONS), "concession.reason")
    if ("share" in concession) == ("amount" in concession):
        raise invalid("concession", "a concession is either a share (percent) or an amount, not both or neither")
    if "share" in concession:
        share = non_negative_decimal(concession["share"], "concession.share")
        if share > 100:
            raise invalid("concession.share", f"a share is at most 100 percent, got {concession['share']!r}")
        off = to_money(owed * share / 100, "concession.share")
        detail_en, detail_zh = f"{share.normalize():f} %", f"{share.normalize():f}%"
    else:
        off = min(to_money(non_negative_decimal(concession["amount"], "concession.amount"), "concession.amount"),
                  owed)
        detail_en = detail_zh = format_money(off)
    name_en, name_zh = CONCESSIONS[reason]
    line = _line("concession", f"{name_en} ({detail_en})", 1, -min(off, owed), False, description_zh=
                 f"{name_zh}（{detail_zh}）")
    line["reason"] = reason
    return line


@handler("quote.prepare")
@idempotent
def prepare(ctx: HandlerContext, ticket_number: str, coverage: str, parts: list[dict[str, Any]],
            labour_hours: float, callout: bool, solution: str,
            concession: dict[str, Any] | None = None) -> dict[str, Any]:
    """Price parts, labour, call-out, coverage and any goodwill or exception; store a printable quote.

    ticket_number: the ticket's number, e.g. AS-20260302-00001; must exist
    coverage: the warranty coverage from warranty.check_entitlement: full, parts_only or none
    parts: the parts to price: a list of {"sku", "quantity": whole number ≥ 1}; may be empty
    labour_hours: the labour to charge, in hours (0 or more, decimals allowed)
    callout: true if a technician visits on site and the call-out fee applies, else false
    solution: what the customer is offered: repair, replace or refund
    concession: discount: {"reason": goodwill|out_of_warranty_exception, "share": 0-100 %} or {"reason", "amount"}
    """
    one_of(coverage, COVERAGES, "coverage")
    one_of(solution, SOLUTIONS, "solution")
    if not isinstance(callout, bool):
        raise invalid("callout", f"callout must be true or false, got {callout!r}")
    hours = non_negative_decimal(labour_hours, "labour_hours")
    wanted = parse_items(parts or [], "parts")
    ticket = get_ticket(ctx.session, ticket_number)
    if ticket is None:
        raise invalid("ticket_number", f"ticket {ticket_number!r} does not exist")
    lines, currency = price_lines(ctx.session, coverage, solution, wanted, hours, callout, ticket.product.model)
    given = concession_line(concession, _totals(lines)["customer_pays"])
    if given is not None:
        lines.append(given)
    totals = _totals(lines)
    language = ticket.customer.language
    candidates = [f"templates/quote/document.{lang}.html.j2" for lang in dict.fromkeys((language, "en"))]
    found = find_template(ctx, candidates)
    if found is None:
        raise invalid("ticket_number", f"the deployment has no quote document template ({candidates[-1]})")
    path, source = found
    stored_lines = [{**line, "amount": format_money(line["amount"])} for line in lines]
    money = {key: format_money(value) for key, value in totals.items()}
    valid_until = ctx.now + timedelta(days=VALID_DAYS)
    columns = {key: value for key, value in totals.items() if key != "concession"}  # a line, not a column
    quote = Quote(ticket_number=ticket.number, solution=solution, coverage=coverage, currency=currency,
                  lines=stored_lines, document_html="", valid_until=valid_until, created_at=ctx.now, **columns)
    ctx.session.add(quote)
    ctx.session.flush()
    quote.document_html = render(source, path, {
        "quote_id": quote.id, "ticket_number": ticket.number, "customer": {"name": ticket.customer.name},
        "product": {"model": ticket.product.model, "serial_number": ticket.product.serial_number},
        "solution": solution, "coverage": coverage, "currency": currency, "lines": stored_lines,
        "created_at": ctx.now.isoformat(), "valid_until": valid_until.isoformat(), **money}, autoescape=True)
    ctx.session.flush()
    return {"quote_id": quote.id, "currency": currency, **money, "lines": stored_lines,
            "valid_until": valid_until.isoformat(), "document_url": document_url(ticket.number, quote.id)}


def document_url(ticket_number: str, quote_id: int) -> str:
    """Return where the web layer serves a quote's document."""
    return f"/tickets/{ticket_number}/quote/{quote_id}"


def get_quote_document(session: Session, ticket_number: str, quote_id: int) -> str | None:
    """Return the stored HTML document of a ticket's quote (None when there is no such quote)."""
    return session.scalar(select(Quote.document_html).where(Quote.id == quote_id,
                                                            Quote.ticket_number == ticket_number))


def load_rates(session: Session, data: dict[str, Any]) -> int:
    """Insert or update labour rates and call-out fees."""
    for item in data["rates"]:
        session.merge(Rate(product_line=item["product_line"], currency=data["currency"],
                           labour_rate=to_money(item["labour_rate"], "labour_rate"),
                           callout_fee=to_money(item["callout_fee"], "callout_fee")))
    return len(data["rates"])
