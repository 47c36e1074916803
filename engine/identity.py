"""Users, roles and the acting user the engine authorizes against."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock
from .audit import PendingEvent, write_system_event
from .errors import InvalidInput, NotFound
from .models import Role, User

ROLES = {
    "agent": "Service agent (front line): registers, triages, first diagnosis, remote assistance",
    "technician": "Technician (repair centre or field): inspection, repair, parts and time",
    "warehouse": "Warehouse: parts reservation, back-orders, shipping",
    "supervisor": "Supervisor: approvals above authority, escalations, complaints, reassignment",
    "qa": "QA reviewer: samples closed tickets and scores them",
    "process_owner": "Process owner: edits, validates and deploys BPMN/DMN/forms",
    "auditor": "Auditor: read-only tracing and verification of the audit trail",
    "admin": "Administrator: users, groups, channels, templates, handler settings",
}
SUPERVISING = {"supervisor", "admin"}


@dataclass(frozen=True)
class Actor:
    """Who acts: a username and the roles held."""

    username: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_supervisor(self) -> bool:
        """Tell whether the actor may see and reassign every task."""
        return bool(self.roles & SUPERVISING)

    def may_work_in(self, role: str | None) -> bool:
        """Tell whether the actor may work on tasks of a lane mapped to ``role``."""
        if role is None:
            return self.is_supervisor
        return role in self.roles or self.is_supervisor

    @classmethod
    def of(cls, user: User) -> Actor:
        """Return the actor for a stored user."""
        return cls(user.username, frozenset(user.role_names))


def ensure_role(session: Session, name: str, description: str = "") -> tuple[Role, bool]:
    """Return the role ``name``, creating it if missing; tell whether it was created."""
    role = session.scalars(select(Role).where(Role.name == name)).one_or_none()
    if role is not None:
        return role, False
    role = Role(name=name, description=description or ROLES.get(name, ""), created_at=clock.now())
    session.add(role)
    session.flush()
    return role, True


def create_user(session: Session, username: str, password: str, roles: list[str],
                display_name: str = "", email: str = "", by: str = "system") -> User:
    """Create a user with a hashed password and the given roles."""
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput(f"username {username!r} must be letters, digits, '.' or '_'", field="username")
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters", field="password")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InvalidInput(f"user {username!r} exists already", field="username")
    user = User(username=username, display_name=display_name or username, email=email,
                password_hash=generate_password_hash(password), created_at=clock.now())
    user.roles = [ensure_role(session, r)[0] for r in roles]
    session.add(user)
    session.flush()
    write_system_event(session, PendingEvent("user.created", by, clock.now(),
                                             {"username": username, "roles": sorted(roles)}), stream="users")
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user whose password matches, else None."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def get_user(session: Session, username: str) -> User:
    """Return the user ``username``."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def actor_for(session: Session, username: str) -> Actor:
    """Return the actor of a stored user."""
    return Actor.of(get_user(session, username))
