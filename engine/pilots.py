"""Which deployment a new instance starts on: the current version, or a pilot's.

The *current* version of a process is the deployment holding it that was activated last
(deploying, redeploying the same content, or :func:`set_current` — a roll back — activate
one). A *pilot* starts a share of new instances — or only those of one channel, region or
product line — on another version while the rest stay on the current one. The share is
kept exact over time by a counter on the pilot row: the n-th matching start goes to the
pilot when ``floor(n * share / 100)`` grows. Each routed start is recorded
(:class:`PilotStart`) and named in the instance's ``instance.created`` audit event, so
the two versions' figures can be compared on the same stream of tickets; promoting the
pilot makes its version current, stopping it sends every new ticket to the current one.

:func:`choose_definition` is the one place a new instance picks its deployment;
:meth:`engine.runtime.Runtime.start` calls it for every start without an explicit one
(web intake, API, CLI, cockpit, simulator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .audit import PendingEvent, write_system_event
from .db import Base
from .errors import Conflict, InvalidInput, NotFound
from .models import Deployment, ProcessDefinition

FILTERS = ("channel", "region", "product_line")


class Pilot(Base):
    """A version tried on a share (or one channel, region or product line) of a process's new instances."""

    __tablename__ = "pilot"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    base_deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    share: Mapped[int]
    channel: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(32))
    product_line: Mapped[str | None] = mapped_column(String(32))
    models: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(16), index=True)
    matched: Mapped[int] = mapped_column(default=0)
    piloted: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(64))

    def to_dict(self) -> dict[str, Any]:
        """Return the pilot as JSON-able data."""
        return {"id": self.id, "process_id": self.process_id, "deployment_id": self.deployment_id,
                "base_deployment_id": self.base_deployment_id, "share": self.share, "channel": self.channel,
                "region": self.region, "product_line": self.product_line, "status": self.status,
                "matched": self.matched, "piloted": self.piloted, "created_at": self.created_at.isoformat(),
                "created_by": self.created_by, "ended_at": self.ended_at.isoformat() if self.ended_at else None,
                "ended_by": self.ended_by}

    def matches(self, data: dict[str, Any]) -> bool:
        """Tell whether a new instance with start ``data`` belongs to the pilot's population."""
        customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
        product = data.get("product") if isinstance(data.get("product"), dict) else {}
        if self.channel and data.get("channel") != self.channel:
            return False
        if self.region and customer.get("region") != self.region:
            return False
        if self.product_line:
            line = data.get("product_line") or product.get("product_line")
            if line != self.product_line and product.get("model") not in (self.models or []):
                return False
        return True


class PilotStart(Base):
    """Which side of a pilot a new instance was started on."""

    __tablename__ = "pilot_start"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    on_pilot: Mapped[bool]


@dataclass(frozen=True)
class Choice:
    """The definition a new instance starts on, and the pilot that decided it (if any)."""

    definition: ProcessDefinition
    pilot_id: int | None = None
    on_pilot: bool = False

    def record(self, session: Session, instance_id: int) -> dict[str, Any] | None:
        """Record the pilot's decision for the new instance; return it for the audit event."""
        if self.pilot_id is None:
            return None
        session.add(PilotStart(instance_id=instance_id, pilot_id=self.pilot_id,
                               deployment_id=self.definition.deployment_id, on_pilot=self.on_pilot))
        return {"pilot_id": self.pilot_id, "on_pilot": self.on_pilot}


def find_definition(session: Session, process_id: str, deployment_id: int | None = None) -> ProcessDefinition:
    """Return the definition of ``process_id`` in the current (or given) deployment."""
    query = (select(ProcessDefinition).join(Deployment)
             .where(ProcessDefinition.process_id == process_id, ProcessDefinition.kind == "process"))
    if deployment_id is not None:
        query = query.where(ProcessDefinition.deployment_id == deployment_id)
    definition = session.scalars(query.order_by(Deployment.activated_at.desc(), Deployment.id.desc())
                                 .limit(1)).first()
    if definition is None:
        if deployment_id is not None:
            raise NotFound("deployment {deployment_id} has no process '{process_id}'",
                           process=process_id, deployment_id=deployment_id,
                           params={"deployment_id": deployment_id, "process_id": process_id})
        known = sorted(set(session.scalars(select(ProcessDefinition.process_id)
                                           .where(ProcessDefinition.kind == "process"))))
        raise NotFound("process '{process_id}' is not deployed; deployed: {known}" if known else
                       "process '{process_id}' is not deployed", process=process_id,
                       params={"process_id": process_id, "known": ", ".join(known)})
    return definition


def choose_definition(session: Session, process_id: str, data: dict[str, Any]) -> Choice:
    """Pick the deployment a new instance of ``process_id`` starts on: the current one, or its pilot's."""
    current = find_definition(session, process_id)
    pilot = session.scalars(select(Pilot).where(Pilot.process_id == process_id, Pilot.status == "active")
                            .with_for_update()).first()
    if pilot is None or not pilot.matches(data):
        return Choice(current)
    pilot.matched += 1
    on_pilot = pilot.matched * pilot.share // 100 > (pilot.matched - 1) * pilot.share // 100
    if not on_pilot:
        return Choice(current, pilot.id, False)
    pilot.piloted += 1
    return Choice(find_definition(session, process_id, pilot.deployment_id), pilot.id, True)


def start_pilot(session: Session, process_id: str, deployment_id: int, actor: str, share: int = 100,
                channel: str | None = None, region: str | None = None, product_line: str | None = None,
                models: list[str] | None = None) -> Pilot:
    """Start new instances of ``process_id`` matching the filters on ``deployment_id``, ``share`` % of them."""
    if isinstance(share, bool) or not isinstance(share, int) or not 1 <= share <= 100:
        raise InvalidInput("share is a whole percentage from 1 to 100", field="share")
    for name, value in (("channel", channel), ("region", region), ("product_line", product_line)):
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 32):
            raise InvalidInput("{name} is a code of at most 32 characters", field=name, params={"name": name})
    if session.get(Deployment, deployment_id) is None:
        raise NotFound("deployment {deployment_id} does not exist",
                       field="deployment_id", params={"deployment_id": deployment_id})
    find_definition(session, process_id, deployment_id)
    current = find_definition(session, process_id)
    if current.deployment_id == deployment_id:
        raise InvalidInput("deployment {deployment_id} is already the current version of '{process_id}'; pilot "
                           "another one",
                           field="deployment_id", params={"deployment_id": deployment_id, "process_id": process_id})
    running = session.scalars(select(Pilot).where(Pilot.process_id == process_id, Pilot.status == "active")).first()
    if running is not None:
        raise Conflict("pilot {pilot} of '{process_id}' is running; stop or promote it first",
                       pilot_id=running.id, params={"pilot": running.id, "process_id": process_id})
    now = clock.now()
    pilot = Pilot(process_id=process_id, deployment_id=deployment_id, base_deployment_id=current.deployment_id,
                  share=share, channel=channel or None, region=region or None, product_line=product_line or None,
                  models=list(models or []), status="active", matched=0, piloted=0, created_at=now,
                  created_by=actor)
    session.add(pilot)
    session.flush()
    write_system_event(session, PendingEvent("pilot.started", actor, now, pilot.to_dict()), "deployments")
    return pilot


def get_pilot(session: Session, pilot_id: int) -> Pilot:
    """Return a pilot or raise :class:`NotFound`."""
    pilot = session.get(Pilot, pilot_id)
    if pilot is None:
        raise NotFound("pilot {pilot_id} does not exist", pilot_id=pilot_id, params={"pilot_id": pilot_id})
    return pilot


def list_pilots(session: Session) -> list[Pilot]:
    """Return every pilot, the newest first."""
    return list(session.scalars(select(Pilot).order_by(Pilot.id.desc())))


def end_pilot(session: Session, pilot_id: int, actor: str, promote: bool) -> Pilot:
    """Stop a running pilot; with ``promote`` its version becomes the current one for everyone."""
    pilot = get_pilot(session, pilot_id)
    if pilot.status != "active":
        raise Conflict("pilot {pilot_id} has ended already ({status})",
                       pilot_id=pilot_id, params={"pilot_id": pilot_id, "status": pilot.status})
    pilot.status, pilot.ended_at, pilot.ended_by = ("promoted" if promote else "stopped"), clock.now(), actor
    write_system_event(session, PendingEvent(f"pilot.{pilot.status}", actor, pilot.ended_at, pilot.to_dict()),
                       "deployments")
    if promote:
        set_current(session, pilot.process_id, pilot.deployment_id, actor)
    return pilot


def set_current(session: Session, process_id: str, deployment_id: int, actor: str) -> Deployment:
    """Make ``deployment_id`` the version new instances of ``process_id`` start on (e.g. roll back)."""
    find_definition(session, process_id, deployment_id)
    previous = find_definition(session, process_id).deployment_id
    deployment = session.get(Deployment, deployment_id)
    assert deployment is not None  # find_definition found a definition in it
    latest = session.scalar(select(func.max(Deployment.activated_at)))
    now = clock.now()  # strictly after the latest activation, so it wins even on a frozen or skewed clock
    deployment.activated_at = max(now, latest + timedelta(microseconds=1)) if latest else now
    session.flush()
    write_system_event(session, PendingEvent("deployment.made_current", actor, deployment.activated_at, {
        "process_id": process_id, "deployment_id": deployment_id, "name": deployment.name,
        "version": deployment.version, "previous_deployment_id": previous}), "deployments")
    return deployment


def versions(session: Session, process_id: str) -> list[dict[str, Any]]:
    """Return the deployed versions of a process, the current one marked."""
    rows = session.execute(select(Deployment.id, Deployment.name, Deployment.version, Deployment.deployed_at)
                           .join(ProcessDefinition)
                           .where(ProcessDefinition.process_id == process_id, ProcessDefinition.kind == "process")
                           .order_by(Deployment.version.desc())).all()
    current = find_definition(session, process_id).deployment_id if rows else None
    return [{"deployment_id": r.id, "name": r.name, "version": r.version, "deployed_at": r.deployed_at.isoformat(),
             "current": r.id == current} for r in rows]


def process_ids(session: Session) -> list[str]:
    """Return the ids of every deployed process (not decisions), sorted."""
    return sorted(set(session.scalars(select(ProcessDefinition.process_id).where(ProcessDefinition.kind == "process"))))
