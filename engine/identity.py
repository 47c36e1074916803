"""Users, roles and the acting user the engine authorizes against.

Roles are the built-in staff roles (:data:`ROLES`) and every role a deployed bundle's lanes
created (``engine.deploy`` turns lane "Field Partner" into role ``field_partner``); an
administrator may give any of them to a user, and nothing else. Account changes
(create, edit, disable, enable, password, roles, language) are written to the ``users``
audit stream with who made them. Sign-in attempts are counted in the database
(:func:`hit_limit`), so that every web process sees the same counts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock
from .audit import PendingEvent, write_system_event
from .db import Base
from .errors import InvalidInput, NotFound
from .forms import EMAIL
from .models import AuditEvent, Role, User
from .settings import Problem, problem, refuse

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
                display_name: str = "", email: str = "", by: str = "system", language: str = "") -> User:
    """Create a user with a hashed password and the given roles (created when missing: seeding)."""
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("username '{username}' must be letters, digits, '.' or '_'",
                           field="username", params={"username": username})
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters", field="password")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InvalidInput("user '{username}' exists already", field="username", params={"username": username})
    user = User(username=username, display_name=display_name or username, email=email, language=language,
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
        raise NotFound("user '{username}' does not exist", params={"username": username})
    return user


def actor_for(session: Session, username: str) -> Actor:
    """Return the actor of a stored user."""
    return Actor.of(get_user(session, username))


# --- administration of accounts --------------------------------------------------------------
LANGUAGES = ("en", "zh")
USERNAME = re.compile(r"[A-Za-z0-9_.]{1,64}")
MIN_PASSWORD = 10
COMMON_PASSWORDS = frozenset({"password123", "1234567890", "qwertyuiop", "password1234", "iloveyou123",
                              "aftersales1", "changeme123", "welcome1234", "admin12345", "letmein1234"})


def assignable_roles(session: Session) -> dict[str, str]:
    """Return every role a user may be given, with its description: built-in and lane-created."""
    found = dict(ROLES)
    for role in session.scalars(select(Role).order_by(Role.name)):
        found.setdefault(role.name, role.description)
    return dict(sorted(found.items()))


def password_problems(password: str, username: str, field_name: str = "password") -> list[Problem]:
    """Return why ``password`` is too weak: length, letters and non-letters, not the username."""
    if len(password) < MIN_PASSWORD:
        return [problem(field_name, "a password needs at least {n} characters", n=MIN_PASSWORD)]
    if password.isalpha() or not any(c.isalpha() for c in password):
        return [problem(field_name, "a password needs letters and at least one digit or symbol")]
    if (username and username.lower() in password.lower()) or password.lower() in COMMON_PASSWORDS:
        return [problem(field_name, "this password is too easy to guess (it contains the username or is common)")]
    return []


def _role_problems(session: Session, roles: list[str]) -> list[Problem]:
    if not roles:
        return [problem("roles", "choose at least one role")]
    known = assignable_roles(session)
    return [problem("roles", "role {role!r} does not exist (roles: the built-in ones and those a deployed "
                             "bundle's lanes created)", role=r) for r in roles if r not in known]


def _profile_problems(display_name: str, email: str, language: str) -> list[Problem]:
    problems = []
    if len(display_name) > 120:
        problems.append(problem("display_name", "a name has at most {n} characters", n=120))
    if email and not EMAIL.fullmatch(email):
        problems.append(problem("email", "{value!r} is not one e-mail address like name@example.com", value=email))
    if language and language not in LANGUAGES:
        problems.append(problem("language", "language must be one of {choices}", choices=", ".join(LANGUAGES)))
    return problems


def _audit_user(session: Session, kind: str, by: str, username: str, **data: Any) -> None:
    write_system_event(session, PendingEvent(kind, by, clock.now(), {"username": username, **data}), stream="users")


def add_user(session: Session, username: str, password: str, roles: list[str], display_name: str = "",
             email: str = "", language: str = "", by: str = "system") -> User:
    """Create an account as an admin: every field checked first, unknown roles refused by name."""
    username, roles = username.strip(), list(dict.fromkeys(r.strip() for r in roles if r.strip()))
    problems = []
    if not USERNAME.fullmatch(username):
        problems.append(problem("username", "a username is 1 to 64 letters, digits, '.' or '_'"))
    elif session.scalars(select(User.id).where(User.username == username)).first() is not None:
        problems.append(problem("username", "user {username!r} exists already", username=username))
    problems += password_problems(password, username)
    problems += _role_problems(session, roles)
    problems += _profile_problems(display_name.strip(), email.strip(), language)
    refuse(problems, "the new user")
    return create_user(session, username, password, roles, display_name.strip(), email.strip(), by, language)


def list_users(session: Session) -> list[User]:
    """Return every account, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def edit_user(session: Session, username: str, by: str, display_name: str | None = None,
              email: str | None = None, language: str | None = None) -> dict[str, list[Any]]:
    """Change a user's name, e-mail or language; return what changed (field: [old, new])."""
    user = get_user(session, username)
    wanted = {"display_name": None if display_name is None else display_name.strip() or user.username,
              "email": None if email is None else email.strip(), "language": language}
    refuse(_profile_problems(wanted["display_name"] or "", wanted["email"] or "", language or ""), "the user")
    changes = {name: [getattr(user, name), value] for name, value in wanted.items()
               if value is not None and getattr(user, name) != value}
    for name, (_old, value) in changes.items():
        setattr(user, name, value)
    if changes:
        _audit_user(session, "user.updated", by, username, changes=changes)
    return changes


def set_roles(session: Session, username: str, roles: list[str], by: str) -> bool:
    """Give a user exactly ``roles`` (built-in or lane-created); tell whether they changed."""
    roles = list(dict.fromkeys(r.strip() for r in roles if r.strip()))
    refuse(_role_problems(session, roles), "the user's roles")
    user = get_user(session, username)
    if by == username and "admin" in user.role_names and "admin" not in roles:
        refuse([problem("roles", "you cannot take the admin role from yourself")])
    old = sorted(user.role_names)
    if old == sorted(roles):
        return False
    user.roles = [ensure_role(session, r)[0] for r in roles]
    session.flush()
    _audit_user(session, "user.roles_changed", by, username, old=old, new=sorted(roles))
    return True


def set_active(session: Session, username: str, active: bool, by: str) -> bool:
    """Disable (their sessions end at their next request) or enable an account."""
    user = get_user(session, username)
    if not active and by == username:
        refuse([problem("active", "you cannot disable your own account")])
    if user.active == active:
        return False
    user.active = active
    _audit_user(session, "user.enabled" if active else "user.disabled", by, username)
    return True


def reset_password(session: Session, username: str, password: str, by: str) -> None:
    """Set a new password for a user (an admin's act); the user's sessions end."""
    user = get_user(session, username)
    refuse(password_problems(password, username), "the new password")
    user.password_hash = generate_password_hash(password)
    _audit_user(session, "user.password_reset", by, username)


def change_password(session: Session, username: str, current: str, new: str, repeat: str) -> None:
    """Change one's own password: the current one must match, the new one be strong and repeated."""
    user = get_user(session, username)
    problems = []
    if not check_password_hash(user.password_hash, current):
        problems.append(problem("current_password", "the current password is wrong"))
    problems += password_problems(new, username, "new_password")
    if new != repeat:
        problems.append(problem("repeat_password", "the two new passwords differ"))
    elif new and new == current:
        problems.append(problem("new_password", "the new password must differ from the current one"))
    refuse(problems, "the password change")
    user.password_hash = generate_password_hash(new)
    _audit_user(session, "user.password_changed", username, username)


def user_history(session: Session, username: str, limit: int = 30) -> list[AuditEvent]:
    """Return the audited changes of one account (``users`` stream), newest first."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.stream == "users")
                             .order_by(AuditEvent.seq.desc()).limit(2000))
    return [e for e in events if e.data.get("username") == username][:limit]


def session_stamp(user: User) -> str:
    """Return a short fingerprint of the password a session was opened with.

    A session remembers it; when the password changes (reset or changed) the stamp no longer
    matches and every session opened before ends.
    """
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


# --- sign-in limits shared by every web process -------------------------------------------------
class RateLimitBucket(Base):
    """Recent attempts of one client at one action (sign-in, status lookup), as epoch seconds."""

    __tablename__ = "rate_limit_bucket"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[list[Any]]
    updated_at: Mapped[datetime] = mapped_column(index=True)


_FORGET = timedelta(days=1)  # a bucket idle this long is gone (no window is that long)


def hit_limit(session: Session, keys: list[tuple[str, int]], window: float) -> bool:
    """Record one attempt under each ``(key, limit)``; tell whether all are still within their limit.

    A sliding window of ``window`` seconds; the bucket rows are locked (``FOR UPDATE`` on
    PostgreSQL, the writer lock on SQLite), so concurrent processes count every attempt once.
    """
    now = clock.now()
    cutoff = now.timestamp() - window
    within = True
    for key, limit in keys:
        bucket = _bucket(session, key[:255], now)
        hits = [h for h in bucket.hits if h > cutoff]
        if len(hits) >= limit:
            within = False
        else:
            hits.append(now.timestamp())
        bucket.hits, bucket.updated_at = hits, now
    session.flush()
    session.execute(delete(RateLimitBucket).where(RateLimitBucket.updated_at < now - _FORGET))
    return within


def within_limit(session: Session, keys: list[tuple[str, int]], window: float) -> bool:
    """Tell, without recording anything, whether every ``(key, limit)`` is still under its limit.

    For attempts counted only when they fail (signing in): a success then needs no write.
    """
    cutoff = clock.now().timestamp() - window
    rows = {b.key: b for b in session.scalars(select(RateLimitBucket).where(
        RateLimitBucket.key.in_([key[:255] for key, _ in keys])))}
    return all(len([h for h in (rows[k[:255]].hits if k[:255] in rows else []) if h > cutoff]) < limit
               for k, limit in keys)


def _bucket(session: Session, key: str, now: datetime) -> RateLimitBucket:
    bucket = session.get(RateLimitBucket, key, with_for_update=True)
    if bucket is not None:
        return bucket
    try:
        with session.begin_nested():
            bucket = RateLimitBucket(key=key, hits=[], updated_at=now)
            session.add(bucket)
        return bucket
    except IntegrityError:  # another process made it first: take theirs, locked
        found = session.get(RateLimitBucket, key, with_for_update=True, populate_existing=True)
        assert found is not None
        return found
