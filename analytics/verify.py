"""``kpi verify``: every figure of the dashboard computed a second way, straight from the trail.

The dashboard sums roll-ups of facts (:mod:`analytics.rollup`, :mod:`analytics.facts`);
this module recomputes the same figures without reading either — from the audit trail
(arrivals, registrations, human tasks, the SLA clocks' start/pause/stop results, closures),
the survey answers and the parts movements — and lists every figure that differs
(counts exactly, times within a second). Each run is kept (:class:`KpiVerification`) so the
dashboard can say when its figures were last verified and whether they matched.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class KpiVerification(Base):
    """One run of ``kpi verify``: when, by whom, over which dates, and the figures that differed."""

    __tablename__ = "kpi_verification"
    __table_args__ = (Index("ix_kpi_verification_ran_at", "ran_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    figures: Mapped[int]
    mismatches: Mapped[int]
    details: Mapped[list[Any]]
