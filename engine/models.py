"""The engine's tables: deployments, instances, their derived rows, incidents, audit.

An instance's authoritative state is its serialized workflow, kept as a log of
``instance_state`` rows (a full document, then deltas: :mod:`engine.state_log`), its
specs kept once per deployment. Work items, timers and message and signal subscriptions
are projections rewritten in the same transaction as the state; nothing mirrors the task tree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base


class Role(Base):
    """A group of users; lanes map to roles."""

    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class UserRole(Base):
    """Membership of a user in a role."""

    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"), primary_key=True)


class User(Base):
    """A member of staff who signs in."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]
    roles: Mapped[list[Role]] = relationship(secondary="user_role", lazy="selectin")

    @property
    def role_names(self) -> set[str]:
        """Return the names of the user's roles."""
        return {r.name for r in self.roles}


class Deployment(Base):
    """An immutable, content-hashed bundle of BPMN, DMN, forms and templates."""

    __tablename__ = "deployment"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        UniqueConstraint("name", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(64))
    activated_at: Mapped[datetime]
    # the frozen specs (hundreds of KB of JSON) load only when asked for: once per process, by
    # store.SpecCache; every other read of a deployment (its name, version) skips decoding them
    specs: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    warnings: Mapped[list[Any]]
    files: Mapped[list[DeploymentFile]] = relationship(back_populates="deployment", lazy="raise")
    processes: Mapped[list[ProcessDefinition]] = relationship(back_populates="deployment",
                                                               lazy="selectin")


class DeploymentFile(Base):
    """One file of a deployment, stored byte for byte."""

    __tablename__ = "deployment_file"
    __table_args__ = (UniqueConstraint("deployment_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    deployment: Mapped[Deployment] = relationship(back_populates="files")


class ProcessDefinition(Base):
    """A process or decision found in a deployment."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("deployment_id", "kind", "process_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"),
                                               index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="process")
    file: Mapped[str] = mapped_column(String(300))
    lanes: Mapped[list[Any]]
    deployment: Mapped[Deployment] = relationship(back_populates="processes")


class Instance(Base):
    """One process instance: its bookkeeping (its workflow is in :class:`InstanceState` rows)."""

    __tablename__ = "instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_key: Mapped[str | None] = mapped_column(String(64), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    summary: Mapped[dict[str, Any]]
    projection: Mapped[dict[str, Any]]
    serializer_version: Mapped[str] = mapped_column(String(16))
    state_seq: Mapped[int] = mapped_column(default=0)
    audit_seq: Mapped[int] = mapped_column(default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


# the owner's instance list filtered by priority (engine.cockpit._summary writes this same expression)
Index("ix_instance_priority", Instance.summary["priority"].as_string())
# running instances of one process by index alone (the dashboard's requests not registered yet); by status too
Index("ix_instance_status_process", Instance.status, Instance.process_id, Instance.id)


class InstanceState(Base):
    """One row of an instance's state log: a full workflow document or a delta on the row before."""

    __tablename__ = "instance_state"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)


class WorkItem(Base):
    """A ready human task, as the tasklist queries it."""

    __tablename__ = "work_item"
    __table_args__ = (
        Index("ix_work_item_role_assignee_due_at", "role", "assignee", "due_at"),
        Index("ix_work_item_due_order", "due_at", "created_at", "task_id"),  # the tasklist's due order
        Index("ix_work_item_business_key", "business_key"),
    )

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(64))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(300))
    stage: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str | None] = mapped_column(String(16))
    customer_tier: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime | None]
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Timer(Base):
    """A timer event waiting in an instance, with its due time."""

    __tablename__ = "timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(index=True)


class MessageSubscription(Base):
    """A message event waiting in an instance for a name and correlation key."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_name_key", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    message_name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str | None] = mapped_column(String(200))


class SignalSubscription(Base):
    """A signal event waiting in an instance (catch, boundary or event-subprocess start)."""

    __tablename__ = "signal_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    signal_name: Mapped[str] = mapped_column(String(200), index=True)


class UndeliveredMessage(Base):
    """A message an instance threw that no instance and no deployed process was waiting for."""

    __tablename__ = "undelivered_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    message_name: Mapped[str] = mapped_column(String(200), index=True)
    correlation_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]


class Incident(Base):
    """A failed automatic task: retried with backoff, then open until somebody retries it."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    element_name: Mapped[str] = mapped_column(String(300))
    error_type: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), index=True)
    next_retry_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class AuditEvent(Base):
    """One append-only audit event, chained to the previous one of its stream by hash."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("stream", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stream: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    instance_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(48))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditStream(Base):
    """The head of an audit stream that is not an instance (deployments, users, system)."""

    __tablename__ = "audit_stream"

    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int]
    head: Mapped[str] = mapped_column(String(64))


class DatabaseMark(Base):
    """A fact about the database itself, e.g. ``purpose`` = ``demo`` (what it may be used for)."""

    __tablename__ = "database_mark"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(100))
