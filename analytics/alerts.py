"""KPI alerts: thresholds as data, each crossing raised and notified exactly once.

Rules live in ``data/kpi_alerts.json`` (the newest deployment's, else the shipped file).
The worker's ``kpi.alerts`` job evaluates every rule over its current period with the
dashboard's own aggregates. A rule that starts to fire records a ``kpi_alert`` row — the
crossing, numbered per rule and period (unique, so two workers cannot both raise it) —
and, in the same transaction, an e-mail to every active supervisor in the notification
outbox, which delivers it after commit. The alert clears when the figure is back on the
right side, or when its period is over; firing again later is a new crossing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel import Locale
from sqlalchemy import String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, Database
from engine.models import DeploymentFile, Role, User, UserRole
from engine.settings import KPI_THRESHOLDS, get_setting, language_of, with_thresholds
from handlers.outbox import Outbox, queue_email
from handlers.values import local_date

from .facts import SHIPPED, KpiState, period_key, period_start, previous_period
from .queries import BASIS, LIVE_FIGURES, Context, KpiFilter, aggregate

RULES_FILE = "data/kpi_alerts.json"
EVERY = timedelta(minutes=5)
SHIPPED_RULES = SHIPPED.parent / "kpi_alerts.json"


class KpiAlert(Base):
    """One crossing of an alert rule's threshold in one period."""

    __tablename__ = "kpi_alert"
    __table_args__ = (UniqueConstraint("rule", "period_key", "crossing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    kpi: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    period_key: Mapped[str] = mapped_column(String(16))
    crossing: Mapped[int]
    value: Mapped[float]
    threshold: Mapped[float]
    basis: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    notified: Mapped[int] = mapped_column(default=0)


# per database and deployment: two databases (tenants, a restored copy) each have their own deployment 1
_rules: dict[Any, list[dict[str, Any]]] = {}


def alert_rules(session: Session) -> list[dict[str, Any]]:
    """Return the alert rules: the newest deployed ``data/kpi_alerts.json``, else the shipped one,
    with the thresholds an admin saved on ``/admin/settings`` in place of the file's."""
    deployment_id = session.scalar(select(DeploymentFile.deployment_id).where(DeploymentFile.path == RULES_FILE)
                                   .order_by(DeploymentFile.deployment_id.desc()).limit(1))
    key: Any = (str(session.get_bind().url), deployment_id) if deployment_id is not None else (
        "shipped", SHIPPED_RULES.stat().st_mtime_ns if SHIPPED_RULES.is_file() else 0)
    if key not in _rules:
        if deployment_id is not None:
            content: bytes | None = session.scalar(select(DeploymentFile.content).where(
                DeploymentFile.deployment_id == deployment_id, DeploymentFile.path == RULES_FILE))
        else:
            content = SHIPPED_RULES.read_bytes() if SHIPPED_RULES.is_file() else None
        _rules[key] = list(json.loads(content).get("alerts", [])) if content else []
    return with_thresholds(_rules[key], get_setting(session, KPI_THRESHOLDS))  # an admin's thresholds first


@dataclass(frozen=True)
class Reading:
    """What a rule sees in its current period."""

    period_key: str
    value: float | None
    basis: int
    threshold: float
    firing: bool


def read_rule(session: Session, ctx: Context, rule: dict[str, Any],
              seen: dict[tuple[KpiFilter, bool], dict[str, Any]] | None = None) -> Reading:
    """Evaluate one rule over its current period (and the one before, for ``falls_by``).

    ``seen`` keeps the figures already read in this evaluation (rules share periods)."""
    seen = {} if seen is None else seen
    period, kpi = rule["period"], rule["kpi"]
    today = local_date(ctx.now)
    key = period_key(today, period)
    dims = {d: rule[d] for d in ("channel", "product_line", "priority", "team") if rule.get(d)}

    live = kpi in LIVE_FIGURES or BASIS.get(kpi, "tickets") in LIVE_FIGURES  # else the roll-ups alone answer

    def figure(k: Any, end: Any) -> tuple[float | None, int]:
        flt = KpiFilter(period=period, start=period_start(k, period), end=end, **dims)
        if (flt, live) not in seen:
            seen[(flt, live)] = aggregate(session, ctx, flt, live=live)
        figures = seen[(flt, live)]
        return figures[kpi], int(figures[BASIS.get(kpi, "tickets")] or 0)

    value, basis = figure(key, today)
    enough = value is not None and basis >= int(rule.get("min_count", 1))
    if "below" in rule:
        threshold, firing = float(rule["below"]), enough and value < float(rule["below"])  # type: ignore[operator]
    elif "above" in rule:
        threshold, firing = float(rule["above"]), enough and value > float(rule["above"])  # type: ignore[operator]
    else:
        last, last_basis = figure(previous_period(key, period), period_start(key, period) - timedelta(days=1))
        threshold = float(rule["falls_by"])
        firing = (enough and last is not None and last_basis >= int(rule.get("min_count", 1))
                  and last - value >= threshold)  # type: ignore[operator]
    return Reading(str(key), value, basis, threshold, bool(firing))


def _due_changes(session: Session, ctx: Context) -> list[tuple[dict[str, Any], Reading, list[KpiAlert]]]:
    """Return the rules whose alert state must change: (rule, reading, its open alerts)."""
    changes = []
    seen: dict[tuple[KpiFilter, bool], dict[str, Any]] = {}
    open_by_rule: dict[str, list[KpiAlert]] = {}
    for alert in session.scalars(select(KpiAlert).where(KpiAlert.cleared_at.is_(None))):
        open_by_rule.setdefault(alert.rule, []).append(alert)
    for rule in alert_rules(session):
        reading = read_rule(session, ctx, rule, seen)
        open_alerts = open_by_rule.get(rule["id"], [])
        current = any(a.period_key == reading.period_key for a in open_alerts)
        stale = any(a.period_key != reading.period_key or not reading.firing for a in open_alerts)
        if stale or (reading.firing and not current):
            changes.append((rule, reading, open_alerts))
    return changes


def check_alerts(db: Database, now: datetime, every: timedelta = EVERY) -> int:
    """Evaluate every rule (at most once per ``every``); raise and notify new crossings, clear ended ones."""
    from .refresh import lock_state

    with db.transaction(write=False) as session:
        last = session.scalar(select(KpiState.at).where(KpiState.name == "alerts"))
        if last is not None and now - last < every:
            return 0
        changes = bool(_due_changes(session, Context.of(session, now)))
    raised = 0
    with db.transaction() as session:
        state = lock_state(session, "alerts")
        if state is None:
            return 0
        state.at = now
        if not changes:
            return 0
        for rule, reading, open_alerts in _due_changes(session, Context.of(session, now)):
            for alert in open_alerts:
                if alert.period_key != reading.period_key or not reading.firing:
                    alert.cleared_at = now
            if reading.firing and not any(a.period_key == reading.period_key and a.cleared_at is None
                                          for a in open_alerts):
                raise_alert(session, rule, reading, now)
                raised += 1
    return raised


def raise_alert(session: Session, rule: dict[str, Any], reading: Reading, now: datetime) -> KpiAlert:
    """Record a new crossing of ``rule`` and e-mail every active supervisor through the outbox."""
    last = session.scalar(select(KpiAlert.crossing).where(KpiAlert.rule == rule["id"],
                                                          KpiAlert.period_key == reading.period_key)
                          .order_by(KpiAlert.crossing.desc()).limit(1))
    alert = KpiAlert(rule=rule["id"], kpi=rule["kpi"], period=rule["period"], period_key=reading.period_key,
                     crossing=(last or 0) + 1, value=float(reading.value or 0), threshold=reading.threshold,
                     basis=reading.basis, title=title_of(rule, "en")[:300], raised_at=now)
    session.add(alert)
    session.flush()
    alert.notified = notify_supervisors(session, alert, rule, now)
    return alert


def title_of(rule: dict[str, Any], language: str) -> str:
    """Return a rule's title in ``language`` (English when it has none)."""
    title = rule.get("title") or rule["id"]
    if isinstance(title, dict):
        return str(title.get(language) or title.get("en") or rule["id"])
    return str(title)


def _body(alert: KpiAlert, rule: dict[str, Any], language: str) -> str:
    value = f"{alert.value:.1%}" if rule["kpi"].endswith("_share") else f"{alert.value:.2f}"
    threshold = f"{alert.threshold:.0%}" if rule["kpi"].endswith("_share") else f"{alert.threshold:g}"
    if language == "zh":
        return (f"{title_of(rule, 'zh')}\n\n周期 {alert.period_key}：当前 {value}（阈值 {threshold}，"
                f"基于 {alert.basis} 张工单）。\n请在 KPI 看板查看明细。")
    return (f"{title_of(rule, 'en')}\n\nPeriod {alert.period_key}: now {value} (threshold {threshold}, "
            f"from {alert.basis} tickets).\nSee the KPI dashboard for the tickets behind it.")


def notify_supervisors(session: Session, alert: KpiAlert, rule: dict[str, Any], now: datetime) -> int:
    """Queue the alert e-mail for every active supervisor with an address; return how many."""
    count = 0
    for user in _supervisors(session):
        language = language_of(session, user.language)
        queue_email(session, user.email, language, title_of(rule, language), _body(alert, rule, language),
                    f"KPI-{alert.id}", "kpi_alert", RULES_FILE, 0, now)
        count += 1
    return count


def active_alerts(session: Session, limit: int = 20) -> list[KpiAlert]:
    """Return the alerts that are still firing, newest first."""
    return list(session.scalars(select(KpiAlert).where(KpiAlert.cleared_at.is_(None))
                                .order_by(KpiAlert.raised_at.desc(), KpiAlert.id.desc()).limit(limit)))


def recent_alerts(session: Session, limit: int = 20) -> list[KpiAlert]:
    """Return the latest alerts, cleared ones included, newest first."""
    return list(session.scalars(select(KpiAlert).order_by(KpiAlert.raised_at.desc(), KpiAlert.id.desc())
                                .limit(limit)))


def shown_alerts(session: Session, active: int = 20, recent: int = 10) -> tuple[list[KpiAlert], list[KpiAlert]]:
    """Return what :func:`active_alerts` and :func:`recent_alerts` return (with these limits), in one read: the
    newest ``recent`` alerts and the newest ``active`` still firing, newest first."""
    newest = (KpiAlert.raised_at.desc(), KpiAlert.id.desc())
    firing = select(KpiAlert.id).where(KpiAlert.cleared_at.is_(None)).order_by(*newest).limit(active)
    latest = select(KpiAlert.id).order_by(*newest).limit(recent)
    rows = list(session.scalars(select(KpiAlert).where(or_(KpiAlert.id.in_(firing.scalar_subquery()),
                                                           KpiAlert.id.in_(latest.scalar_subquery())))
                                .order_by(*newest)))
    return [a for a in rows if a.cleared_at is None][:active], rows[:recent]



# --- customer notifications that failed for good ----------------------------------------------
FAILED_RULE = "notifications_failed"
#: the title in each language, by the language's CLDR plural category (Chinese has one form)
FAILED_TITLES = {"en": {"one": "{n} customer notification failed for good",
                        "other": "{n} customer notifications failed for good"},
                 "zh": {"other": "{n} 条客户通知最终发送失败"}}


#: the rule's name on the dashboard, where the count stands beside it ("from 3 tickets")
FAILED_RULE_TITLES = {"en": "Customer notifications failed for good", "zh": "客户通知最终发送失败"}


def failed_title(count: int, language: str) -> str:
    """Return the title of the failed-notifications alert in ``language``, in the plural form ``count`` takes."""
    forms = FAILED_TITLES.get(language, FAILED_TITLES["en"])
    return forms.get(Locale.parse(language).plural_form(count), forms["other"]).format(n=count)


def check_failed_notifications(db: Database, now: datetime) -> int:
    """Report customer notifications that failed for good: one alert per day, counting them.

    The day's first failure raises the alert and e-mails every active supervisor (through
    the outbox, as KPI alerts); later failures of the same day add to its count, shown on
    the dashboard. The alerts of earlier days are cleared. Returns how many failures were
    reported now.
    """
    today = local_date(now).isoformat()
    unreported = (Outbox.status == "failed") & (Outbox.audience == "customer") & Outbox.alert_id.is_(None)
    with db.transaction(write=False) as session:  # most passes have nothing to report or clear: no write lock
        if session.scalar(select(Outbox.id).where(unreported).limit(1)) is None and session.scalar(
                select(KpiAlert.id).where(KpiAlert.rule == FAILED_RULE, KpiAlert.cleared_at.is_(None),
                                          KpiAlert.period_key != today).limit(1)) is None:
            return 0
    with db.transaction() as session:
        new = list(session.scalars(select(Outbox).where(unreported).order_by(Outbox.id)))
        open_alerts = list(session.scalars(select(KpiAlert).where(KpiAlert.rule == FAILED_RULE,
                                                                  KpiAlert.cleared_at.is_(None))))
        for alert in open_alerts:
            if alert.period_key != today:
                alert.cleared_at = now
        if not new:
            return 0
        alert = next((a for a in open_alerts if a.period_key == today), None)
        if alert is None:
            last = session.scalar(select(KpiAlert.crossing).where(KpiAlert.rule == FAILED_RULE,
                                                                  KpiAlert.period_key == today)
                                  .order_by(KpiAlert.crossing.desc()).limit(1))
            alert = KpiAlert(rule=FAILED_RULE, kpi="failed_notifications", period="day", period_key=today,
                             crossing=(last or 0) + 1, value=0.0, threshold=0.0, basis=0, title="", raised_at=now)
            session.add(alert)
            session.flush()
            alert.value = float(len(new))
            alert.notified = _tell_supervisors_of_failures(session, alert, new, now)
        else:
            alert.value += len(new)
        alert.basis = int(alert.value)
        alert.title = failed_title(alert.basis, "en")[:300]
        for row in new:
            row.alert_id = alert.id
        return len(new)


def _tell_supervisors_of_failures(session: Session, alert: KpiAlert, rows: list[Outbox], now: datetime) -> int:
    """Queue the failed-notifications e-mail for every active supervisor with an address."""
    count = 0
    for user in _supervisors(session):
        language = language_of(session, user.language)
        lines = [f"- {r.ticket_number} {r.milestone} → {r.recipient}: {(r.last_error or '')[:200]}" for r in rows]
        intro = ("以下客户通知无法送达，请联系客户或更正地址（员工页面“邮件”）：" if language == "zh" else
                 "These customer notifications could not be delivered; contact the customers or correct the "
                 "addresses (staff page Mail):")
        queue_email(session, user.email, language, failed_title(len(rows), language),
                    intro + "\n\n" + "\n".join(lines), f"ALERT-{alert.id}", "notification_failed",
                    "analytics/alerts.py", 0, now)
        count += 1
    return count


def _supervisors(session: Session) -> list[User]:
    """Return the active supervisors with an e-mail address."""
    return list(session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                .join(Role, Role.id == UserRole.role_id)
                                .where(Role.name == "supervisor", User.active.is_(True), User.email != "")
                                .order_by(User.id)))


def _register_with_worker() -> None:
    from engine.worker import register_job

    register_job("notify.failures", check_failed_notifications)


_register_with_worker()
