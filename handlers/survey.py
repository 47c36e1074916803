"""Satisfaction surveys: a signed, expiring link per ticket, and the answers (CSAT, NPS, comment).

The link is ``<public address>/s/<token>`` (:mod:`handlers.customer_links`); the token is signed
with ``AFTERSALES_SECRET_KEY`` by itsdangerous and carries the ticket number and its expiry,
checked against the engine's clock (so tests and simulations can move time). The web layer calls
:func:`verify_survey_token` before it shows the form and delivers ``survey_answered``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from engine.errors import InvalidInput
from engine.registry import HandlerContext, handler

from .customer_links import in_language, public_url, secret_key
from .idempotency import idempotent
from .values import invalid, mapping, one_of, required_text

SALT = "aftersales.survey"
VALID_FOR = timedelta(days=14)
VIA = ("phone", "sms", "web", "email", "wechat", "app")


class Invitation(Base):
    """A survey link sent for a ticket."""

    __tablename__ = "survey_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Response(Base):
    """A customer's satisfaction answer for a ticket."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    csat: Mapped[int]
    nps: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt=SALT)


def make_survey_token(ticket_number: str, expires_at: datetime) -> str:
    """Return a signed token naming the ticket and when the link expires."""
    return _serializer().dumps({"t": ticket_number, "exp": int(expires_at.timestamp())})


def verify_survey_token(token: str, now: datetime) -> str:
    """Return the ticket number of a valid survey token; raise InvalidInput when forged or expired."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise InvalidInput("this survey link is not valid", field="token") from None
    if not isinstance(payload, dict) or "t" not in payload or "exp" not in payload:
        raise InvalidInput("this survey link is not valid", field="token")
    if now.timestamp() > payload["exp"]:
        raise InvalidInput("this survey link has expired", field="token")
    return str(payload["t"])


def survey_url(session: Session, token: str) -> str:
    """Return the absolute address of the survey page for a token (see :func:`customer_links.public_url`)."""
    return f"{public_url(session)}/s/{token}"


@handler("survey.invite")
@idempotent
def invite(ctx: HandlerContext, ticket_number: str, customer: dict[str, Any]) -> dict[str, Any]:
    """Create a signed survey link for the ticket that expires in 14 days.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    customer: the customer: {"name", "phone", "email", "tier", "language": en|zh, "preferred_channel"}
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    mapping(customer, "customer")
    expires_at = ctx.now + VALID_FOR
    token = make_survey_token(ticket, expires_at)
    ctx.session.add(Invitation(ticket_number=ticket, token=token, created_at=ctx.now, expires_at=expires_at))
    ctx.session.flush()
    url = in_language(survey_url(ctx.session, token), customer.get("language"))
    return {"survey_url": url, "expires_at": expires_at.isoformat()}


def _score(value: Any, low: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(field, f"{field} must be a whole number from {low} to {high}, got {value!r}")
    return value


@handler("survey.record")
@idempotent
def record(ctx: HandlerContext, ticket_number: str, csat: int, nps: int, comment: str, via: str) -> dict[str, Any]:
    """Record the customer's satisfaction (CSAT 1-5), NPS (0-10) and comment.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    csat: customer satisfaction score, a whole number from 1 (poor) to 5 (excellent)
    nps: likelihood to recommend (Net Promoter Score), a whole number from 0 to 10
    comment: the customer's comment (free text, may be empty; at most 4000 characters kept)
    via: where the answer came from: phone, sms, web, email, wechat or app
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    score_csat, score_nps = _score(csat, 1, 5, "csat"), _score(nps, 0, 10, "nps")
    one_of(via, VIA, "via")
    if comment is not None and not isinstance(comment, str):
        raise invalid("comment", f"comment must be text, got {type(comment).__name__}")
    ctx.session.add(Response(ticket_number=ticket, csat=score_csat, nps=score_nps, comment=(comment or "")[:4000],
                             via=via, recorded_at=ctx.now))
    ctx.session.flush()
    return {"recorded": True}


def responses_for(session: Session, ticket_number: str) -> list[Response]:
    """Return a ticket's survey responses, oldest first."""
    return list(session.scalars(select(Response).where(Response.ticket_number == ticket_number)
                                .order_by(Response.id)))
