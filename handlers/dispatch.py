"""Dispatch: field technicians, third-party providers and RMA shipments to a repair centre.

A technician qualifies by skill, region and availability (active, not on leave today,
a free window within the planning horizon); among those the lowest current load wins
(open assignments of tickets not closed), then the earliest window, then the username,
so the choice is deterministic and can be explained. A provider qualifies only while its
qualification is valid on the day of the choice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import projection, store
from engine.audit import PendingEvent, write_instance_events
from engine.db import Base, is_sqlite
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.identity import Actor
from engine.models import AuditEvent, Instance, User, WorkItem
from engine.registry import BusinessError, HandlerContext, assignee_rule, handler

from .idempotency import idempotent
from .notifications import send
from .templates import find_template, render
from .ticketing import Ticket
from .values import business_timezone, invalid, local_date, mapping, one_of, required_text

PRIORITIES = ("urgent", "high", "medium", "low")
LEAD_TIME = {"urgent": timedelta(hours=2), "high": timedelta(hours=4), "medium": timedelta(hours=24),
             "low": timedelta(hours=48)}
HORIZON_DAYS = 14
GRID = timedelta(minutes=30)  # windows start on the half hour of the working day


class Technician(Base):
    """A field technician: skills, region, weekly working hours and leave."""

    __tablename__ = "dispatch_technician"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(32), index=True)
    skills: Mapped[list[Any]]
    working_hours: Mapped[dict[str, Any]]
    leave: Mapped[list[Any]]
    slot_minutes: Mapped[int] = mapped_column(default=120)
    active: Mapped[bool] = mapped_column(default=True)


class Assignment(Base):
    """A technician's visit for a ticket, with its appointment window."""

    __tablename__ = "dispatch_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    technician: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime]


class Provider(Base):
    """An authorised third-party service provider and its qualification period."""

    __tablename__ = "dispatch_provider"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    regions: Mapped[list[Any]]
    skills: Mapped[list[Any]]
    qualified_from: Mapped[date]
    qualified_until: Mapped[date]
    rating: Mapped[float]


class ProviderJob(Base):
    """A ticket handed to a provider."""

    __tablename__ = "dispatch_provider_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    provider: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]


class RepairCentre(Base):
    """A repair centre customers ship devices to."""

    __tablename__ = "dispatch_repair_centre"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(40))
    is_default: Mapped[bool] = mapped_column(default=False)


class Rma(Base):
    """A return authorisation: the customer ships the device to a repair centre."""

    __tablename__ = "dispatch_rma"

    rma_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    centre: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


def _on_leave(tech: Technician, day: date) -> date | None:
    for period in tech.leave:
        if date.fromisoformat(period["from"]) <= day <= date.fromisoformat(period["to"]):
            return date.fromisoformat(period["to"])
    return None


def next_window(tech: Technician, busy: list[tuple[datetime, datetime]],
                earliest: datetime) -> tuple[datetime, datetime] | None:
    """Return the technician's first free window starting at or after ``earliest``."""
    zone = business_timezone()
    hours = tech.working_hours
    opens, closes = time.fromisoformat(hours["start"]), time.fromisoformat(hours["end"])
    length = timedelta(minutes=tech.slot_minutes)
    day = earliest.astimezone(zone).date()
    for _ in range(HORIZON_DAYS):
        if day.isoweekday() in hours["days"] and _on_leave(tech, day) is None:
            start = datetime.combine(day, opens, zone)
            while start + length <= datetime.combine(day, closes, zone):
                end = start + length
                if start >= earliest and not any(s < end and start < e for s, e in busy):
                    return start, end
                start += GRID
        day += timedelta(days=1)
    return None


def _load(session: Session, usernames: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(Assignment.technician, func.count()).outerjoin(Ticket, Ticket.number == Assignment.ticket_number)
        .where(Assignment.technician.in_(usernames), Assignment.status == "open",
               (Ticket.status.is_(None)) | (Ticket.status != "closed"))
        .group_by(Assignment.technician))
    counts = dict.fromkeys(usernames, 0)
    counts.update({name: count for name, count in rows})
    return counts


def _busy(session: Session, username: str, since: datetime) -> list[tuple[datetime, datetime]]:
    rows = session.execute(select(Assignment.starts_at, Assignment.ends_at).where(
        Assignment.technician == username, Assignment.status == "open", Assignment.ends_at > since))
    return [(s, e) for s, e in rows]


@handler("dispatch.assign_technician")
@idempotent
def assign_technician(ctx: HandlerContext, ticket_number: str, skill: str, region: str,
                      priority: str) -> dict[str, Any]:
    """Assign the least-loaded available technician with the skill in the region, and book a window.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    skill: the skill the job needs, e.g. tv, refrigerator, air_conditioner
    region: the service region of the customer, e.g. east, south, north
    priority: the ticket's priority: urgent, high, medium or low; sets the earliest visit (2, 4, 24 or 48 hours)
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    skill, region = required_text(skill, "skill", 32), required_text(region, "region", 32)
    one_of(priority, PRIORITIES, "priority")
    query = select(Technician).where(Technician.region == region, Technician.active.is_(True))
    if not is_sqlite(ctx.session):
        query = query.with_for_update()  # serialize concurrent bookings of these technicians
    in_region = [t for t in ctx.session.scalars(query.order_by(Technician.username)) if skill in t.skills]
    today = local_date(ctx.now)
    earliest = ctx.now + LEAD_TIME[priority]
    loads = _load(ctx.session, [t.username for t in in_region])
    ranked, passed_over = [], []
    for tech in in_region:
        back = _on_leave(tech, today)
        window = None if back else next_window(tech, _busy(ctx.session, tech.username, ctx.now), earliest)
        if back:
            passed_over.append(said("{technician} is on leave until {date}", technician=tech.username,
                                    date=back.isoformat()))
        elif window is None:
            passed_over.append(said("{technician} has no free window in the next {days} days",
                                    technician=tech.username, days=HORIZON_DAYS))
        else:
            ranked.append((loads[tech.username], window[0], tech.username, tech, window))
    if not ranked:
        raise business_error("NO_TECHNICIAN", said("no available technician with skill {skill} in region {region}",
                                                   skill=skill, region=region),
                             passed_over, skill=skill, region=region)
    ranked.sort(key=lambda r: (r[0], r[1], r[2]))
    load, _start, _name, chosen, (start, end) = ranked[0]
    others = ", ".join(f"{r[2]} {r[0]}" for r in ranked[1:])
    reason = (f"{chosen.username} ({chosen.name}) has skill {_words(skill)} in region {_words(region)} and "
              f"{load} open assignment(s), the fewest of {len(ranked)} available"
              + (f" (others: {others})" if others else "")
              + f"; first free window {start.astimezone(business_timezone()):%Y-%m-%d %H:%M}"
              + (f"; passed over: {'; '.join(map(_english, passed_over))}" if passed_over else ""))
    zh = _catalogue_names("zh")
    reason_zh = (f"{chosen.username}（{zh.get(chosen.name, chosen.name)}）具备“{zh.get(skill, skill)}”技能、负责"
                 f"{zh.get(region, region)}，当前有 {load} 个未完成派工，是 {len(ranked)} 名可派技术员中最少的"
                 + (f"（其他：{others}）" if others else "")
                 + f"；最早空闲时段 {start.astimezone(business_timezone()):%Y-%m-%d %H:%M}"
                 + (f"；未选：{'；'.join(map(_chinese, passed_over))}" if passed_over else ""))
    for previous in ctx.session.scalars(select(Assignment).where(Assignment.ticket_number == ticket,
                                                                 Assignment.status == "open")):
        previous.status = "replaced"
    ctx.session.add(Assignment(ticket_number=ticket, technician=chosen.username, priority=priority,
                               starts_at=start, ends_at=end, reason=reason[:1000], created_at=ctx.now))
    ctx.session.flush()
    return {"technician": chosen.username, "name": chosen.name, "reason": reason, "reason_zh": reason_zh,
            "appointment": {"start": start.isoformat(), "end": end.isoformat()}}


def _catalogue_names(language: str) -> dict[str, str]:
    """Return the catalogue's names in ``language`` (regions, skills, technicians, providers) for the reasons."""
    from .demo import catalogue_texts  # demo imports this module's loaders

    return catalogue_texts(language=language)


def _words(code: str) -> str:
    """Say a skill's or region's code as English words, as the task pages do (``air_conditioner`` → air conditioner)."""
    return code.replace("_", " ")


@handler("dispatch.choose_provider")
@idempotent
def choose_provider(ctx: HandlerContext, ticket_number: str, skill: str, region: str) -> dict[str, Any]:
    """Hand the ticket to the best-rated provider qualified today for the skill and region.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    skill: the skill the job needs, e.g. tv, refrigerator, air_conditioner
    region: the service region of the customer, e.g. east, south, north
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    skill, region = required_text(skill, "skill", 32), required_text(region, "region", 32)
    today = local_date(ctx.now)
    fitting = [p for p in ctx.session.scalars(select(Provider).order_by(Provider.code))
               if skill in p.skills and region in p.regions]
    qualified = [p for p in fitting if p.qualified_from <= today <= p.qualified_until]
    refused = [said("{provider} qualification expired {date}", provider=p.code, date=p.qualified_until.isoformat())
               if p.qualified_until < today else
               said("{provider} qualification starts {date}", provider=p.code, date=p.qualified_from.isoformat())
               for p in fitting if p not in qualified]
    if not qualified:
        raise business_error("NO_QUALIFIED_PROVIDER",
                             said("no provider is qualified on {date} for skill {skill} in region {region}",
                                  date=today.isoformat(), skill=skill, region=region),
                             refused, skill=skill, region=region)
    chosen = sorted(qualified, key=lambda p: (-p.rating, p.code))[0]
    reason = (f"{chosen.code} ({chosen.name}) covers region {_words(region)} with skill {_words(skill)}, "
              f"is qualified "
              f"until {chosen.qualified_until.isoformat()} and has the best rating ({chosen.rating:.1f}) of "
              f"{len(qualified)} qualified"
              + (f"; not qualified: {'; '.join(map(_english, refused))}" if refused else ""))
    zh = _catalogue_names("zh")
    reason_zh = (f"{chosen.code}（{zh.get(chosen.name, chosen.name)}）覆盖{zh.get(region, region)}、"
                 f"具备“{zh.get(skill, skill)}”技能，资质有效期至 {chosen.qualified_until.isoformat()}，"
                 f"在 {len(qualified)} 家合格服务商中评分最高"
                 f"（{chosen.rating:.1f}）" + (f"；资质不符：{'；'.join(map(_chinese, refused))}" if refused else ""))
    ctx.session.add(ProviderJob(ticket_number=ticket, provider=chosen.code, created_at=ctx.now))
    ctx.session.flush()
    return {"provider_id": chosen.code, "name": chosen.name,
            "qualified_until": chosen.qualified_until.isoformat(), "reason": reason, "reason_zh": reason_zh}


@handler("dispatch.create_rma")
@idempotent
def create_rma(ctx: HandlerContext, ticket_number: str, customer: dict[str, Any]) -> dict[str, Any]:
    """Issue a return authorisation: where the customer ships the device, and how.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    customer: the customer object; its "region" picks the repair centre, "language" (en/zh) the instructions
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    mapping(customer, "customer")
    centres = ctx.session.scalars(select(RepairCentre).order_by(RepairCentre.is_default.desc(),
                                                                RepairCentre.code)).all()
    if not centres:
        raise invalid("ticket_number", "no repair centre is set up: load the catalogue first")
    centre = next((c for c in centres if c.region == customer.get("region")), centres[0])
    count = ctx.session.scalar(select(func.count()).select_from(Rma).where(Rma.ticket_number == ticket)) or 0
    number = f"RMA-{ticket.removeprefix('AS-')}" + (f"-{count + 1}" if count else "")
    ship_to = {"name": centre.name, "address": centre.address, "phone": centre.phone}
    language = customer.get("language") if customer.get("language") in ("en", "zh") else "en"
    candidates = [f"templates/rma/instructions.{lang}.j2" for lang in dict.fromkeys((language, "en"))]
    found = find_template(ctx, candidates)
    if found is None:
        raise invalid("customer", f"the deployment has no RMA instructions template ({candidates[-1]})")
    instructions = render(found[1], found[0], {"rma_number": number, "ticket_number": ticket, "ship_to": ship_to,
                                               "customer": customer})
    ctx.session.add(Rma(rma_number=number, ticket_number=ticket, centre=centre.code, created_at=ctx.now))
    for visit in ctx.session.scalars(select(Assignment).where(Assignment.ticket_number == ticket,
                                                              Assignment.status == "open")):
        visit.status = "cancelled"  # the device goes to the repair centre: no technician drives out for it
    ctx.session.flush()
    return {"rma_number": number, "ship_to": ship_to, "instructions": instructions}


def load_technicians(session: Session, data: dict[str, Any]) -> int:
    """Insert or update technicians."""
    for item in data["technicians"]:
        session.merge(Technician(username=item["username"], name=item["name"], region=item["region"],
                                 skills=item["skills"], working_hours=item["working_hours"],
                                 leave=item.get("leave", []), slot_minutes=data.get("slot_minutes", 120),
                                 active=item.get("active", True)))
    return len(data["technicians"])


def load_providers(session: Session, data: dict[str, Any]) -> int:
    """Insert or update providers and repair centres."""
    for item in data["providers"]:
        session.merge(Provider(code=item["code"], name=item["name"], regions=item["regions"],
                               skills=item["skills"], qualified_from=date.fromisoformat(item["qualified_from"]),
                               qualified_until=date.fromisoformat(item["qualified_until"]),
                               rating=float(item["rating"])))
    for item in data.get("repair_centres", []):
        session.merge(RepairCentre(code=item["code"], name=item["name"], region=item["region"],
                                   address=item["address"], phone=item["phone"],
                                   is_default=bool(item.get("default", False))))
    return len(data["providers"])


# --- dispatched visits: who works them, moving and rescheduling ----------------------------------
#: the technician-lane tasks done at the customer's site by the dispatched technician
ON_SITE_TASKS = ("inspect_on_site", "repair_device")
#: the supervisor's task when dispatch found no technician: a visit waiting to be booked by hand
MANUAL_ASSIGNMENT = "assign_technician_manually"


def open_assignment(session: Session, ticket_number: str) -> Assignment | None:
    """Return the ticket's current (open) visit, the newest if several."""
    return session.scalars(select(Assignment).where(Assignment.ticket_number == ticket_number,
                                                    Assignment.status == "open")
                           .order_by(Assignment.id.desc()).limit(1)).first()


def visit_served(session: Session, visit: Assignment, instance_id: int) -> bool:
    """Tell whether the technician has been on a booked visit: an on-site task of the ticket was completed after
    the visit was booked (a visit for the next on-site task is booked anew)."""
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind == "task.completed",
        AuditEvent.element_id.in_(ON_SITE_TASKS), AuditEvent.at > visit.created_at).limit(1)) is not None


@assignee_rule
def dispatched_technician(session: Session, business_key: str | None, element_id: str,
                          role: str | None) -> str | None:
    """Reserve a ticket's on-site task for the technician dispatched to it (when that is a staff user)."""
    if not business_key or role != "technician" or element_id not in ON_SITE_TASKS:
        return None
    visit = open_assignment(session, business_key)
    return visit.technician if visit is not None and is_staff_technician(session, visit.technician) else None


def is_staff_technician(session: Session, username: str) -> bool:
    """Tell whether a technician of the catalogue is also an active staff user who works technician tasks."""
    user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()
    return user is not None and Actor.of(user).may_work_in("technician")


def said(template: str, **params: Any) -> dict[str, Any]:
    """Return a message as data a page says in its reader's language: an English ``template`` and its
    ``params`` (a skill, region or field reads in words there; a param may itself be such a message)."""
    return {"template": template, "params": params}


def _english(message: dict[str, Any]) -> str:
    params = {k: _english(v) if isinstance(v, dict) else v for k, v in message["params"].items()}
    return str(message["template"]).format(**params) if params else str(message["template"])


#: why a technician or provider was passed over, in Chinese for ``reason_zh`` (the same words as the pages'
#: catalogue, web/translations/zh/LC_MESSAGES/messages.po, which the task pages say them in)
PASSED_OVER_ZH = {
    "{technician} is on leave until {date}": "{technician} 休假至 {date}",
    "{technician} has no free window in the next {days} days": "{technician} 未来 {days} 天内没有空闲时段",
    "{provider} qualification expired {date}": "{provider} 的资质已于 {date} 到期",
    "{provider} qualification starts {date}": "{provider} 的资质自 {date} 起生效",
}


def _chinese(message: dict[str, Any]) -> str:
    return PASSED_OVER_ZH[message["template"]].format(**message["params"])


def business_error(code: str, message: dict[str, Any], details: list[dict[str, Any]], **payload: Any) -> BusinessError:
    """Return the BPMN error ``code``: its English message (the log's) with the ``details`` in brackets, and the
    message and details as templates with params (``said``) for the task that catches it to say in its reader's words.

    The payload keeps the details in English too (``passed_over`` / ``not_qualified``, the log's and the API's).
    """
    english = [_english(d) for d in details]
    key = {"NO_TECHNICIAN": "passed_over", "NO_QUALIFIED_PROVIDER": "not_qualified"}.get(code)
    text = _english(message) + (f" ({'; '.join(english)})" if english else "")
    return BusinessError(code, text, {**payload, **({key: english} if key else {}), **message, "details": details})


def _invalid(field: str, text: str, **values: Any) -> InvalidInput:
    """Return the error for a bad field; ``text`` is the English template pages translate."""
    return InvalidInput(text, params=values, field=field)


def check_window(session: Session, technician: str, starts_at: datetime, ends_at: datetime, now: datetime,
                 ignore: int | None = None) -> Technician:
    """Refuse a window that is not a future, well-ordered, free slot of an active technician at work."""
    tech = session.get(Technician, technician)
    if tech is None or not tech.active:
        raise _invalid("technician", "There is no active technician {technician}.", technician=technician)
    if ends_at <= starts_at:
        raise _invalid("ends_at", "The window must end after it starts.")
    if starts_at < now:
        raise _invalid("starts_at", "The appointment {start} is in the past.",
                       start=f"{starts_at.astimezone(business_timezone()):%Y-%m-%d %H:%M}")
    day = local_date(starts_at)
    back = _on_leave(tech, day)
    if back is not None:
        raise _invalid("technician", "{technician} is on leave on {day} (until {back}).", technician=technician,
                       day=day.isoformat(), back=back.isoformat())
    clash = session.scalars(select(Assignment).where(
        Assignment.technician == technician, Assignment.status == "open", Assignment.starts_at < ends_at,
        Assignment.ends_at > starts_at, Assignment.id != (ignore or 0))).first()
    if clash is not None:
        raise _invalid("starts_at", "{technician} already has the visit for {ticket} at that time.",
                       technician=technician, ticket=clash.ticket_number)
    return tech


def visit_needs(session: Session, runtime: Any, ticket: Ticket) -> dict[str, str]:
    """Return the skill and region the ticket's visit needs, as its process holds them now."""
    instance = session.get(Instance, ticket.instance_id)
    data = projection.current_data(store.read_workflow(session, instance, runtime.specs)) if instance else {}
    return {need: str(data[key]) for need, key in (("skill", "service_skill"), ("region", "service_region"))
            if data.get(key)}


def check_fit(tech: Technician, needs: dict[str, str]) -> None:
    """Refuse a technician without the skill the visit needs or outside the customer's region."""
    if "skill" in needs and needs["skill"] not in tech.skills:
        raise _invalid("technician", "{technician} does not have the skill {skill} this visit needs.",
                       technician=tech.username, skill=needs["skill"])
    if "region" in needs and needs["region"] != tech.region:
        raise _invalid("technician", "{technician} works in region {their_region}, not in {region} where this "
                       "visit is.", technician=tech.username, their_region=tech.region, region=needs["region"])


def move_visit(session: Session, runtime: Any, actor: Actor, visit_id: int, technician: str,
               starts_at: datetime, ends_at: datetime, now: datetime) -> Assignment:
    """Move a visit to another technician or window; tell the customer; audit it on the ticket.

    A supervisor may move any visit; a technician may only reschedule the window of their own.
    A new technician must have the skill and serve the region the ticket needs
    (:func:`visit_needs`), and becomes the assignee of the ticket's ready on-site task.
    """
    visit = session.get(Assignment, visit_id)
    if visit is None or visit.status != "open":
        raise NotFound("visit {visit_id} is not open", field="visit", params={"visit_id": visit_id})
    if not actor.is_supervisor:
        if visit.technician != actor.username:
            raise PermissionDenied("the visit for {ticket_number} is {technician}'s; only a supervisor can move it",
                                   params={"ticket_number": visit.ticket_number, "technician": visit.technician})
        if technician != visit.technician:
            raise _invalid("technician", "Only a supervisor can give the visit to another technician.")
    tech = check_window(session, technician, starts_at, ends_at, now, ignore=visit.id)
    ticket = session.scalars(select(Ticket).where(Ticket.number == visit.ticket_number)).first()
    if ticket is None:
        raise NotFound("ticket {ticket_number} does not exist",
                       field="visit", params={"ticket_number": visit.ticket_number})
    if technician != visit.technician:
        check_fit(tech, visit_needs(session, runtime, ticket))
    before = {"technician": visit.technician, "start": visit.starts_at.isoformat(), "end": visit.ends_at.isoformat()}
    after = {"technician": technician, "start": starts_at.isoformat(), "end": ends_at.isoformat()}
    if before == after:
        return visit
    if technician != visit.technician:
        for item in session.scalars(select(WorkItem).where(WorkItem.business_key == visit.ticket_number,
                                                           WorkItem.element_id.in_(ON_SITE_TASKS))):
            owner = technician if is_staff_technician(session, technician) else None  # else: the group's
            runtime.reassign(session, item.task_id, actor, owner,
                             f"visit moved on the dispatch board from {visit.technician}")
    visit.technician, visit.starts_at, visit.ends_at = technician, starts_at, ends_at
    instance = store.lock_instance(session, ticket.instance_id)
    notice: dict[str, Any] = {"skipped": "the window did not change"}
    if (before["start"], before["end"]) != (after["start"], after["end"]):
        notice = _tell_customer(session, instance, ticket, visit, tech, now)
    write_instance_events(session, instance, [PendingEvent("dispatch.visit_moved", actor.username, now, {
        "ticket": visit.ticket_number, "from": before, "to": after, "notice": notice.get("outbox_id")})])
    session.flush()
    return visit


def _window_of(assignment: dict[str, Any]) -> tuple[datetime, datetime]:
    """Read the ``appointment`` start and end of a manual assignment (a naive time is business time)."""
    window = mapping(assignment.get("appointment"), "appointment")
    moments = []
    for key in ("start", "end"):
        try:
            moment = datetime.fromisoformat(str(window.get(key) or ""))
        except ValueError as exc:
            raise invalid(f"appointment.{key}", f"appointment.{key} must be a date and time, got "
                          f"{str(window.get(key))[:40]!r}") from exc
        moments.append(moment if moment.tzinfo else moment.replace(tzinfo=business_timezone()))
    return moments[0], moments[1]


@handler("dispatch.record_visit")
@idempotent
def record_visit(ctx: HandlerContext, ticket_number: str, assignment: dict[str, Any],
                 priority: str) -> dict[str, Any]:
    """Record the visit a supervisor assigned by hand, so it is on My day and the board and the on-site task is theirs.

    ticket_number: the ticket's number, e.g. AS-20260302-00001
    assignment: the supervisor's assignment: technician (a catalogue username) and appointment (start, end)
    priority: the ticket's priority: urgent, high, medium or low
    A window that is past, on the technician's leave or over another of their visits, or an
    unknown technician, raises the business error VISIT_REFUSED (its message names the field).
    """
    ticket = required_text(ticket_number, "ticket_number", 32)
    mapping(assignment, "assignment")
    technician = str(assignment.get("technician") or "").strip()
    starts_at, ends_at = _window_of(assignment)
    current = open_assignment(ctx.session, ticket)
    if current is None or (current.technician, current.starts_at, current.ends_at) != (technician, starts_at,
                                                                                        ends_at):
        try:
            check_window(ctx.session, technician, starts_at, ends_at, ctx.now)
        except InvalidInput as exc:
            field = str(exc.details.get("field") or "technician")
            reason = said(exc.template or exc.message, **exc.params)
            raise business_error("VISIT_REFUSED", said("the visit was not recorded: {field}: {reason}",
                                                       field=field, reason=reason), [], field=field) from exc
        for previous in ctx.session.scalars(select(Assignment).where(Assignment.ticket_number == ticket,
                                                                     Assignment.status == "open")):
            previous.status = "replaced"
        reason = f"assigned by hand by {ctx.actor}: {assignment.get('reason') or ''}".strip(": ")
        current = Assignment(ticket_number=ticket, technician=technician,
                             priority=priority if priority in PRIORITIES else "medium", starts_at=starts_at,
                             ends_at=ends_at, reason=reason[:1000], created_at=ctx.now)
        ctx.session.add(current)
        ctx.session.flush()
    return {"visit": current.id, "technician": current.technician, "start": starts_at.isoformat(),
            "end": ends_at.isoformat()}


def book_visit(session: Session, runtime: Any, actor: Actor, task_id: str, technician: str, starts_at: datetime,
               ends_at: datetime, now: datetime) -> Assignment:
    """Book the visit of a ticket dispatch could not place, and complete the supervisor's task with it.

    The process then confirms the appointment to the customer, and the on-site task that
    follows is the booked technician's (:func:`dispatched_technician`).
    """
    if not actor.is_supervisor:
        raise PermissionDenied("only supervisors book visits on the dispatch board")
    item = session.get(WorkItem, task_id)
    if item is None or item.element_id != MANUAL_ASSIGNMENT or not item.business_key:
        raise NotFound("task {task_id} is not a visit waiting for a technician",
                       field="task", params={"task_id": task_id})
    tech = check_window(session, technician, starts_at, ends_at, now)
    for previous in session.scalars(select(Assignment).where(Assignment.ticket_number == item.business_key,
                                                             Assignment.status == "open")):
        previous.status = "replaced"
    reason = f"booked on the dispatch board by {actor.username}"
    visit = Assignment(ticket_number=item.business_key, technician=technician,
                       priority=item.priority if item.priority in PRIORITIES else "medium", starts_at=starts_at,
                       ends_at=ends_at, reason=reason, created_at=now)
    session.add(visit)
    session.flush()
    runtime.complete_task(session, task_id, actor, {
        "technician": technician, "name": tech.name, "reason": reason[:500].capitalize(),
        "appointment": {"start": starts_at.isoformat(), "end": ends_at.isoformat()}})
    return visit


def _tell_customer(session: Session, instance: Any, ticket: Ticket, visit: Assignment, tech: Technician,
                   now: datetime) -> dict[str, Any]:
    """Send the customer the new window through the notification handler (the outbox)."""
    customer = ticket.customer
    ctx = HandlerContext(session=session, instance_id=instance.id, deployment_id=instance.deployment_id,
                         business_key=ticket.number, task_id=f"visit-{visit.id}-{now.isoformat()}",
                         element_id="dispatch_board", now=now)
    person = {"name": customer.name, "phone": customer.phone, "email": customer.email,
              "language": customer.language, "preferred_channel": customer.preferred_channel}
    return send(ctx, ticket_number=ticket.number, milestone="scheduled", customer=person, data={
        "route": "field", "technician_name": tech.name,
        "appointment": {"start": visit.starts_at.isoformat(), "end": visit.ends_at.isoformat()}})
