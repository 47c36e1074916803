"""SLA clocks: response and resolution targets on a business calendar, with pauses.

The priority DMN gives each ticket its targets (ISO durations); the process starts a
clock per target, pauses it while it waits on the customer or a back-order and resumes
it after (every pause and its reason is kept), and stops it when the target is met.
The worker's ``sla.watch`` job raises the warning (at ``warn_share`` of the target) and
the breach by delivering ``sla_warning`` / ``sla_breached`` messages into the instance,
earliest first — so a worker that was down catches up in due order, and nothing is
back-dated: the event records both when it was due and when it was raised.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_datetime, format_timedelta
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import clock as engine_clock
from engine.db import Base, Database, is_sqlite
from engine.errors import HandlerError, MessageNotCorrelated
from engine.registry import HandlerContext, handler
from engine.settings import CALENDARS, get_setting, language_of

from .calendar import Calendar, default_calendars, load_calendars
from .idempotency import idempotent
from .values import business_timezone

KINDS = ("response", "resolution")
_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


class SlaClock(Base):
    """One SLA target of one ticket and how it stands."""

    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("instance_id", "kind"),
        Index("ix_sla_clock_status_warn_at", "status", "warn_at"),
        Index("ix_sla_clock_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"))
    business_key: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(32))
    target_seconds: Mapped[float]
    calendar: Mapped[str] = mapped_column(String(32))
    warn_share: Mapped[float]
    started_at: Mapped[datetime]
    running_since: Mapped[datetime | None]
    consumed_seconds: Mapped[float] = mapped_column(default=0.0)
    paused_seconds: Mapped[float] = mapped_column(default=0.0)
    pauses: Mapped[list[Any]]
    warn_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running, paused, met, breached
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]


def parse_duration(text: str) -> float:
    """Return the seconds of an ISO 8601 duration (weeks, days, hours, minutes, seconds)."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or text.strip() in ("P", "PT"):
        raise HandlerError(f"SLA target {text!r} is not an ISO 8601 duration like 'PT24H' or 'P2D'")
    weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return float(((weeks * 7 + days) * 24 + hours) * 3600 + minutes * 60 + seconds)


def _calendar(ctx: HandlerContext, name: str) -> Calendar:
    stored = get_setting(ctx.session, CALENDARS)  # an admin's calendars (/admin/settings) come first
    if stored and name in stored:
        return Calendar.from_dict(name, stored[name])
    try:
        calendars = load_calendars(ctx.read_file("calendars.json"))
    except Exception:  # a bundle without calendars uses the shipped ones
        calendars = default_calendars()
    if name not in calendars:
        raise HandlerError(f"unknown business calendar {name!r}; known: {', '.join(sorted(calendars))}")
    return calendars[name]


def _clock_of(ctx: HandlerContext, kind: str) -> SlaClock:
    if kind not in KINDS:
        raise HandlerError(f"SLA kind must be one of {', '.join(KINDS)}, got {kind!r}")
    found = ctx.session.scalars(select(SlaClock).where(SlaClock.instance_id == ctx.instance_id,
                                                       SlaClock.kind == kind)).one_or_none()
    if found is None:
        raise HandlerError(f"the {kind} SLA clock of this ticket was never started")
    return found


def _schedule(clock: SlaClock, cal: Calendar, now: datetime) -> None:
    left = clock.target_seconds - clock.consumed_seconds
    clock.due_at = cal.add(now, left)
    warn_left = clock.target_seconds * clock.warn_share - clock.consumed_seconds
    clock.warn_at = None if clock.warned_at else cal.add(now, max(0.0, warn_left))


def view(clock: SlaClock) -> dict[str, Any]:
    """Return a clock as JSON-able data."""
    return {"kind": clock.kind, "target": clock.target, "calendar": clock.calendar, "status": clock.status,
            "due_at": clock.due_at.isoformat() if clock.due_at else None,
            "warn_at": clock.warn_at.isoformat() if clock.warn_at else None,
            "paused_seconds": round(clock.paused_seconds), "pauses": clock.pauses,
            "breached": clock.breached_at is not None}


@handler("sla.start_clock")
@idempotent
def start_clock(ctx: HandlerContext, kind: str, target: str, calendar: str = "standard",
                warn_share: float = 0.75) -> dict[str, Any]:
    """Start the response or resolution clock of this ticket with a target like 'PT24H'.

    kind: which clock: response or resolution
    target: the target time as an ISO 8601 duration in working time, e.g. PT4H or P2D (from the priority DMN)
    calendar: the business calendar the clock counts on, e.g. standard or 24x7; default standard
    warn_share: the share of the target after which a warning is sent, between 0 and 1; default 0.75
    """
    if kind not in KINDS:
        raise HandlerError(f"SLA kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not 0 < float(warn_share) < 1:
        raise HandlerError(f"warn_share must be between 0 and 1, got {warn_share!r}")
    seconds, cal = parse_duration(target), _calendar(ctx, calendar)
    clock = SlaClock(instance_id=ctx.instance_id, business_key=ctx.business_key, kind=kind, target=target,
                     target_seconds=seconds, calendar=calendar, warn_share=float(warn_share), started_at=ctx.now,
                     running_since=ctx.now, consumed_seconds=0.0, paused_seconds=0.0, pauses=[], status="running")
    _schedule(clock, cal, ctx.now)
    ctx.session.add(clock)
    ctx.session.flush()
    return view(clock)


@handler("sla.pause_clock")
@idempotent
def pause_clock(ctx: HandlerContext, kind: str, reason: str) -> dict[str, Any]:
    """Pause a running clock (waiting on the customer, a back-order …), recording why.

    kind: which clock: response or resolution
    reason: why the clock stops, e.g. waiting on the customer or a back-order (free text, kept with the pause)
    """
    clock = _clock_of(ctx, kind)
    if clock.status != "running":
        return view(clock)
    cal = _calendar(ctx, clock.calendar)
    assert clock.running_since is not None
    clock.consumed_seconds += cal.between(clock.running_since, ctx.now)
    clock.running_since, clock.status = None, "paused"
    clock.pauses = [*clock.pauses, {"reason": reason, "from": ctx.now.isoformat(), "to": None}]
    return view(clock)


@handler("sla.resume_clock")
@idempotent
def resume_clock(ctx: HandlerContext, kind: str) -> dict[str, Any]:
    """Resume a paused clock; its due time moves by the working time it stood still.

    kind: which clock: response or resolution
    """
    clock = _clock_of(ctx, kind)
    if clock.status != "paused":
        return view(clock)
    pauses = [dict(p) for p in clock.pauses]
    pauses[-1]["to"] = ctx.now.isoformat()
    clock.paused_seconds += (ctx.now - datetime.fromisoformat(pauses[-1]["from"])).total_seconds()
    clock.pauses, clock.running_since, clock.status = pauses, ctx.now, "running"
    _schedule(clock, _calendar(ctx, clock.calendar), ctx.now)
    return view(clock)


def _worked(clock: SlaClock, cal: Calendar, now: datetime) -> float:
    """Return the working time ``clock`` has run since it started, on ``cal``, leaving out its pauses."""
    worked, since = 0.0, clock.started_at
    for pause in clock.pauses:
        began = datetime.fromisoformat(pause["from"])
        worked += cal.between(since, began)
        if pause.get("to") is None:
            return worked
        since = datetime.fromisoformat(pause["to"])
    return worked + cal.between(since, now)


@handler("sla.retarget_clock")
@idempotent
def retarget_clock(ctx: HandlerContext, kind: str, target: str, calendar: str = "standard") -> dict[str, Any]:
    """Give a clock that is still open a new target (triage changed the priority), counted from its start.

    kind: which clock: response or resolution
    target: the new target as an ISO 8601 duration in working time, e.g. PT2H (from the priority DMN)
    calendar: the business calendar the clock now counts on, e.g. standard or 24x7; default standard
    """
    clock = _clock_of(ctx, kind)
    before = {"target": clock.target, "calendar": clock.calendar,
              "due_at": clock.due_at.isoformat() if clock.due_at else None}
    if clock.status not in ("running", "paused") or (clock.target, clock.calendar) == (target, calendar):
        return {**view(clock), "retargeted": None}
    seconds, cal = parse_duration(target), _calendar(ctx, calendar)
    clock.consumed_seconds = _worked(clock, cal, ctx.now)
    clock.target, clock.target_seconds, clock.calendar = target, seconds, calendar
    if clock.warned_at is not None and clock.consumed_seconds < seconds * clock.warn_share:
        clock.warned_at = None  # a looser target: its own warning is still to come
    if clock.status == "running":
        clock.running_since = ctx.now
        _schedule(clock, cal, ctx.now)
    return {**view(clock), "retargeted": {"from": before, "at": ctx.now.isoformat()}}


@handler("sla.stop_clock")
@idempotent
def stop_clock(ctx: HandlerContext, kind: str) -> dict[str, Any]:
    """Stop a clock because its target was reached: met if before the due time, else breached.

    kind: which clock: response or resolution
    """
    clock = _clock_of(ctx, kind)
    if clock.status in ("met", "breached") and clock.stopped_at is not None:
        return view(clock)
    if clock.status == "paused":
        resume_clock.__wrapped__(ctx, kind)  # type: ignore[attr-defined]
    clock.stopped_at = ctx.now
    late = clock.breached_at is not None or (clock.due_at is not None and ctx.now > clock.due_at)
    clock.status = "breached" if late else "met"
    clock.warn_at = None
    return view(clock)


def clocks_for(session: Session, business_key: str) -> list[dict[str, Any]]:
    """Return a ticket's clocks: response-by / resolve-by, time paused, breached or met."""
    rows = session.scalars(select(SlaClock).where(SlaClock.business_key == business_key).order_by(SlaClock.kind))
    return [view(c) for c in rows]


def _due(session: Session, now: datetime, limit: int) -> list[tuple[datetime, str, int]]:
    query = select(SlaClock).where(SlaClock.status == "running", or_(
        (SlaClock.warned_at.is_(None)) & (SlaClock.warn_at <= now),
        (SlaClock.breached_at.is_(None)) & (SlaClock.due_at <= now)))
    events = []
    for c in session.scalars(query.limit(limit)):
        if c.warned_at is None and c.warn_at is not None and c.warn_at <= now:
            events.append((c.warn_at, "warning", c.id))
        if c.breached_at is None and c.due_at is not None and c.due_at <= now:
            events.append((c.due_at, "breach", c.id))
    return sorted(events)


def watch(db: Database, runtime: Any, now: datetime, limit: int = 200) -> int:
    """Raise due SLA warnings and breaches, earliest first; return how many were raised."""
    with db.transaction(write=False) as session:
        due = _due(session, now, limit)
    raised = 0
    for due_at, what, clock_id in due:
        with db.transaction() as session:
            query = select(SlaClock).where(SlaClock.id == clock_id)
            if not is_sqlite(session):
                query = query.with_for_update(skip_locked=True)
            clock = session.scalars(query).one_or_none()
            if clock is None or clock.status != "running":
                continue
            if what == "warning" and clock.warned_at is None:
                clock.warned_at = engine_clock.now()
                message = "sla_warning"
            elif what == "breach" and clock.breached_at is None:
                clock.breached_at = engine_clock.now()
                message = "sla_breached"
            else:
                continue
            payload = {"kind": clock.kind, "target": clock.target, "due_at": due_at.isoformat(),
                       "raised_at": engine_clock.now().isoformat()}
            _raise(session, runtime, clock, message, payload)
            raised += 1
    return raised


STAFF_TEXT = {
    ("sla_warning", "en"): ("SLA warning: {ticket}", "The {kind} target ({target}) of ticket {ticket} is due at "
                                                     "{due} and 75 % of it has passed. Please act now."),
    ("sla_warning", "zh"): ("SLA 预警：{ticket}",
                            "工单 {ticket} 的{kind}时限（{target}）将于 {due} 到期，已用去 75%。请尽快处理。"),
    ("sla_breached", "en"): ("SLA breached: {ticket}", "The {kind} target ({target}) of ticket {ticket} was due at "
                                                       "{due} and is missed. A supervisor escalation has started."),
    ("sla_breached", "zh"): ("SLA 超时：{ticket}",
                             "工单 {ticket} 的{kind}时限（{target}）已于 {due} 超时，已升级至主管。"),
}


CLOCK_NAMES = {("response", "zh"): "响应", ("resolution", "zh"): "解决"}
LOCALES = {"zh": "zh_CN", "en": "en_GB"}


def said_in(language: str, kind: str, target: str, due_at: str) -> dict[str, str]:
    """Return a clock's kind, target and due time as a person reads them in ``language``: the kind in words,
    the target as a duration ("8 hours", "8小时"), the due time in the business time zone, labelled."""
    locale = LOCALES.get(language, "en_GB")
    due = format_datetime(datetime.fromisoformat(due_at), "yyyy-MM-dd HH:mm zzzz", tzinfo=business_timezone(),
                          locale=locale)
    return {"kind": CLOCK_NAMES.get((kind, language), kind), "due": due,
            "target": format_timedelta(timedelta(seconds=parse_duration(target)), locale=locale)}


def _staff_to_tell(session: Session, clock: SlaClock, message: str) -> list[Any]:
    """Return the assignees of the ticket's open tasks (else their roles' members), plus supervisors on a breach."""
    from engine.models import Role, User, UserRole, WorkItem

    items = list(session.scalars(select(WorkItem).where(WorkItem.instance_id == clock.instance_id)))
    names = {i.assignee for i in items if i.assignee}
    roles = set() if names else {i.role for i in items if i.role}
    if message == "sla_breached":
        roles.add("supervisor")
    query = (select(User).outerjoin(UserRole, UserRole.user_id == User.id).outerjoin(Role, Role.id == UserRole.role_id)
             .where(User.active.is_(True), User.email != "", or_(User.username.in_(sorted(names)),
                                                                 Role.name.in_(sorted(roles))))
             .order_by(User.id))
    return list(dict.fromkeys(session.scalars(query)))


def notify_staff(session: Session, clock: SlaClock, message: str, payload: dict[str, Any]) -> int:
    """E-mail the people working on the ticket about an SLA warning or breach; return how many."""
    from .outbox import queue_email

    count = 0
    for user in _staff_to_tell(session, clock, message):
        language = language_of(session, user.language)
        subject, body = STAFF_TEXT[(message, language)]
        values = {"ticket": clock.business_key or clock.instance_id, **said_in(language, clock.kind, clock.target,
                                                                           payload["due_at"])}
        queue_email(session, user.email, language, subject.format(**values), body.format(**values),
                    clock.business_key or f"instance-{clock.instance_id}", message, "handlers/sla.py",
                    clock.instance_id, engine_clock.now())
        count += 1
    return count


def _raise(session: Session, runtime: Any, clock: SlaClock, message: str, payload: dict[str, Any]) -> None:
    notified = notify_staff(session, clock, message, payload)
    payload = {**payload, "staff_notified": notified}
    try:
        if clock.business_key:
            runtime.deliver_message(session, message, clock.business_key, payload, actor="sla")
            return
    except MessageNotCorrelated:
        pass
    runtime.record_event(session, clock.instance_id, f"sla.{message.removeprefix('sla_')}",
                         {**payload, "delivered": False}, actor="sla")


def _register_with_worker() -> None:
    from engine.worker import register_job

    register_job("sla.watch", lambda db, runtime, now: watch(db, runtime, now))


_register_with_worker()
