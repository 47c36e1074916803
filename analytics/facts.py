"""KPI facts: one row per ticket and one per human task, kept current from the trail.

The measures the business steers by (first response, SLA attainment, resolution time,
first-contact resolution, CSAT, NPS, handle times, backlog, repeat contacts, back-orders,
QA score, cost per channel) are SQL aggregates over two narrow fact tables, grouped in
the database and indexed by business day, so a dashboard over a million tickets reads
no workflow, no JSON and no audit event. :mod:`analytics.refresh` rewrites the facts
of every instance that changed since its last pass (a worker job), from the audit
trail (with :func:`engine.trace.runs_of`, the heatmap's own waiting/working times), the
SLA clocks, surveys, contacts and parts of the ticket.

Targets, cost rates and the process elements that signal first-contact resolution,
reopening and the QA score are data: ``data/kpi.json`` of the newest deployment that has
one, else the file shipped in ``processes/data``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from engine.models import DeploymentFile, Instance
from handlers.ticketing import Contact
from handlers.values import business_timezone

SETTINGS_FILE = "data/kpi.json"
SHIPPED = Path(__file__).resolve().parent.parent / "processes" / SETTINGS_FILE
PERIODS = ("day", "week", "month", "quarter")
DEFAULTS: dict[str, Any] = {
    "targets": {"first_response_hours": 24, "response_sla_share": 0.9, "resolution_hours": 48,
                "over_target_share": 0.1, "resolution_sla_share": 0.9, "csat_satisfied_share": 0.85,
                "fcr_share": 0.7, "repeat_contact_share": 0.1, "backorder_share": 0.15, "nps": 30, "qa_score": 4.0},
    "scales": {"satisfied_csat_min": 4, "promoter_nps_min": 9, "detractor_nps_max": 6},
    "costs": {"currency": "CNY", "labour_per_hour": {"default": 60}, "handling_per_contact": {"default": 5}},
    "signals": {"intake_process": ["after_sales"],
                "intake": ["register_request"], "first_contact_resolution": ["end_resolved_first_contact"],
                "resolution": ["resolve_request"], "reopen": ["end_not_solved"],
                "qa_score": {"element": "review_ticket_quality", "field": "overall"}},
}

# Facts are found again by what changed: the trail's instances and the contacts they attached.
Index("ix_instance_updated_at", Instance.__table__.c.updated_at)
Index("ix_ticket_contact_instance_id", Contact.__table__.c.instance_id)


class KpiTicket(Base):
    """The facts of one ticket that the KPIs aggregate (no personal data)."""

    __tablename__ = "kpi_ticket"
    __table_args__ = (
        Index("ix_kpi_ticket_day", "day"),
        Index("ix_kpi_ticket_status_priority", "status", "priority"),
        Index("ix_kpi_ticket_closed_at", "closed_at"),
        Index("ix_kpi_ticket_refreshed_at", "refreshed_at"),
        Index("ix_kpi_ticket_opened_at", "opened_at", "ticket_id"),  # the drill-down's newest first
        Index("ix_kpi_ticket_response_due_at", "response_due_at"),  # responses falling due this hour
    )

    ticket_id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    instance_id: Mapped[int] = mapped_column(index=True)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    day: Mapped[date]
    week: Mapped[date]
    month: Mapped[str] = mapped_column(String(7))
    quarter: Mapped[str] = mapped_column(String(7))
    channel: Mapped[str] = mapped_column(String(16))
    product_line: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(16))
    fault_category: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(200))
    first_response_at: Mapped[datetime | None]
    first_response_seconds: Mapped[float | None]
    response_due_at: Mapped[datetime | None]
    response_met: Mapped[bool | None]
    resolved_at: Mapped[datetime | None]
    resolution_seconds: Mapped[float | None]
    paused_seconds: Mapped[float] = mapped_column(default=0.0)
    resolution_met: Mapped[bool | None]
    sla_breached: Mapped[bool] = mapped_column(default=False)
    fcr: Mapped[bool] = mapped_column(default=False)
    reopened: Mapped[int] = mapped_column(default=0)
    contacts: Mapped[int] = mapped_column(default=1)
    csat: Mapped[int | None]
    nps: Mapped[int | None]
    qa_score: Mapped[float | None]
    parts_needed: Mapped[bool] = mapped_column(default=False)
    backordered: Mapped[bool] = mapped_column(default=False)
    labour_seconds: Mapped[float] = mapped_column(default=0.0)
    labour_cost: Mapped[float] = mapped_column(default=0.0)
    parts_cost: Mapped[float] = mapped_column(default=0.0)
    handling_cost: Mapped[float] = mapped_column(default=0.0)
    refreshed_at: Mapped[datetime]


class KpiTask(Base):
    """One run of a human task: when it was ready, claimed and done, and by whom."""

    __tablename__ = "kpi_task"
    __table_args__ = (
        Index("ix_kpi_task_day", "day"),
        Index("ix_kpi_task_ticket_id_role", "ticket_id", "role"),
        Index("ix_kpi_task_element_id", "element_id"),
    )

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(index=True)
    ticket_id: Mapped[int | None]
    process_id: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64))
    ready_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    waiting_seconds: Mapped[float | None]
    working_seconds: Mapped[float | None]
    day: Mapped[date]
    week: Mapped[date]
    month: Mapped[str] = mapped_column(String(7))
    quarter: Mapped[str] = mapped_column(String(7))
    channel: Mapped[str | None] = mapped_column(String(16))
    product_line: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(16))


class KpiSource(Base):
    """Which version of an instance the facts were last computed from."""

    __tablename__ = "kpi_source"

    instance_id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]
    refreshed_at: Mapped[datetime]


class KpiState(Base):
    """A named bookmark of a KPI job (the refresh's watermark); its row is the job's lock."""

    __tablename__ = "kpi_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime | None]


# --- periods -----------------------------------------------------------------------------------
def period_keys(moment: datetime) -> dict[str, Any]:
    """Return the business day, week (its Monday), month and quarter of ``moment``."""
    return period_keys_of_day(moment.astimezone(business_timezone()).date())


def period_key(day: date, period: str) -> Any:
    """Return the key of the ``period`` (day, week, month, quarter) that ``day`` falls in."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    return period_keys_of_day(day)[period]


def period_keys_of_day(day: date) -> dict[str, Any]:
    """Return the period keys of a business day."""
    return {"day": day, "week": day - timedelta(days=day.weekday()), "month": f"{day:%Y-%m}",
            "quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}"}


def period_start(key: Any, period: str) -> date:
    """Return the first day of the period with ``key``."""
    if period in ("day", "week"):
        return key if isinstance(key, date) else date.fromisoformat(str(key))
    if period == "month":
        return date.fromisoformat(f"{key}-01")
    year, quarter = str(key).split("-Q")
    return date(int(year), (int(quarter) - 1) * 3 + 1, 1)


def previous_period(key: Any, period: str) -> Any:
    """Return the key of the period just before the one with ``key``."""
    return period_key(period_start(key, period) - timedelta(days=1), period)


# --- settings ----------------------------------------------------------------------------------
# per database and deployment: two databases (tenants, a restored copy) each have their own deployment 1
_settings_cache: dict[tuple[str, int], dict[str, Any]] = {}
_shipped_cache: dict[str, Any] = {}


def _merged(data: dict[str, Any]) -> dict[str, Any]:
    out = {key: (dict(value) if isinstance(value, dict) else value) for key, value in DEFAULTS.items()}
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def kpi_settings(session: Session) -> dict[str, Any]:
    """Return targets, scales, costs and signals: the newest deployed ``data/kpi.json``, else the shipped one."""
    row = session.execute(select(DeploymentFile.deployment_id, DeploymentFile.content)
                          .where(DeploymentFile.path == SETTINGS_FILE)
                          .order_by(DeploymentFile.deployment_id.desc()).limit(1)).first()
    if row is None:
        stamp = SHIPPED.stat().st_mtime_ns if SHIPPED.is_file() else 0
        if _shipped_cache.get("stamp") != stamp:
            data = json.loads(SHIPPED.read_text(encoding="utf-8")) if stamp else {}
            _shipped_cache.update(stamp=stamp, settings=_merged(data))
        return _shipped_cache["settings"]
    deployment_id, content = row
    key = (str(session.get_bind().url), deployment_id)
    if key not in _settings_cache:
        _settings_cache[key] = _merged(json.loads(content))
    return _settings_cache[key]


def target_seconds(settings: dict[str, Any], name: str) -> float:
    """Return a target given in hours (``first_response_hours`` …) in seconds."""
    return float(settings["targets"][name]) * 3600

