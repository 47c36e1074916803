"""Quality assurance: a reproducible random sample of closed tickets for review.

Whether a ticket is sampled depends only on its number and the rate (a SHA-256 of the
number read as a fraction in [0, 1)), so the draw can be re-checked by an auditor and
does not change on a retry; the decision is stored with the rate used.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base
from engine.registry import HandlerContext, handler

from .idempotency import idempotent
from .values import invalid, required_text


class Sample(Base):
    """The sampling decision for one closed ticket."""

    __tablename__ = "qa_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    rate: Mapped[float]
    draw: Mapped[float]
    sampled: Mapped[bool]
    created_at: Mapped[datetime]


def draw_for(ticket_number: str) -> float:
    """Return the ticket's fixed draw in [0, 1)."""
    digest = hashlib.sha256(ticket_number.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@handler("qa.sample")
@idempotent
def sample(ctx: HandlerContext, ticket_number: str, rate: float) -> dict[str, Any]:
    """Decide whether a closed ticket goes to QA review, sampling at the given rate (0 to 1).

    ticket_number: the closed ticket's number, e.g. AS-20260302-00001
    rate: the share of tickets sent to QA review, a number from 0 (none) to 1 (all), e.g. 0.1 for 10 %
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise invalid("rate", f"rate must be a number from 0 to 1, got {rate!r}")
    draw = draw_for(ticket)
    sampled = draw < rate
    ctx.session.add(Sample(ticket_number=ticket, rate=float(rate), draw=draw, sampled=sampled,
                           created_at=ctx.now))
    ctx.session.flush()
    return {"sampled": sampled, "draw": round(draw, 6)}
