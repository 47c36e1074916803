"""API keys of channel integrations: created by admins, stored hashed, scoped to operations.

A key is ``as_<prefix>_<secret>``: 32 random bytes, shown once when created. The
database keeps only the SHA-256 of the whole key, the prefix (to tell keys apart in
listings) and the scopes and roles the key acts with. Creating and revoking a key is
written to the ``apikeys`` audit stream.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .audit import PendingEvent, write_system_event
from .db import Base
from .errors import InvalidInput, NotFound
from .identity import ROLES, Actor

#: how often a key's last use is written: a key used all the time costs one write a minute, not one a request
USE_RECORDED_EVERY = timedelta(minutes=1)
#: every operation a key can be allowed
SCOPES = {
    "service-requests:write": "open tickets (start the after-sales process)",
    "service-requests:read": "read tickets by number",
    "tasks:read": "list ready tasks of the key's roles",
    "tasks:write": "claim and complete tasks of the key's roles",
    "messages:write": "deliver messages (customer answers, parts arrived …)",
    "messages:customer": "speak for the customer: deliver quote answers, confirmations, surveys, cancellations",
    "instances:read": "read instances and their audit events",
    "definitions:read": "list deployed processes and decisions",
    "deployments:write": "deploy bundles of BPMN, DMN and forms",
    "signals:write": "broadcast signals to every waiting instance (a recall, an outage …)",
}
PREFIX = "as_"


class ApiKey(Base):
    """One integration's API key (only its hash is stored)."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    roles: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        """Tell whether the key may still be used."""
        return self.revoked_at is None


@dataclass(frozen=True)
class Caller:
    """Who calls the API with a key: its actor (``api:<name>`` with the key's roles) and scopes."""

    key_id: int
    actor: Actor
    scopes: frozenset[str]
    last_used_at: datetime | None = None

    def use_due(self, now: datetime) -> bool:
        """Tell whether the key's last recorded use is older than :data:`USE_RECORDED_EVERY` (or none)."""
        return self.last_used_at is None or now - self.last_used_at >= USE_RECORDED_EVERY


def hash_token(token: str) -> str:
    """Return the stored form of a key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, scopes: list[str], roles: list[str] | None = None,
               by: str = "admin") -> tuple[ApiKey, str]:
    """Create a key for integration ``name``; return the row and the key (shown only now)."""
    name = name.strip()
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("an integration name is 1-64 letters, digits, '-' or '_'", field="name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise InvalidInput("unknown scope(s) {unknown}; choose from {scopes}" if unknown else
                           "a key needs at least one scope", field="scopes",
                           params={"unknown": ", ".join(unknown), "scopes": ", ".join(SCOPES)})
    bad_roles = sorted(set(roles or []) - set(ROLES))
    if bad_roles:
        raise InvalidInput("unknown role(s) {bad_roles}", field="roles", params={"bad_roles": ", ".join(bad_roles)})
    if session.scalars(select(ApiKey).where(ApiKey.name == name)).first() is not None:
        raise InvalidInput("an API key named '{name}' exists already; revoke it first",
                           field="name", params={"name": name})
    secret = secrets.token_bytes(32).hex()
    token = f"{PREFIX}{secret[:8]}_{secret[8:]}"
    now = clock.now()
    key = ApiKey(name=name, prefix=f"{PREFIX}{secret[:8]}", token_hash=hash_token(token),
                 scopes=sorted(set(scopes)), roles=sorted(set(roles or [])), created_at=now, created_by=by)
    session.add(key)
    session.flush()
    write_system_event(session, PendingEvent("apikey.created", by, now, {
        "name": name, "prefix": key.prefix, "scopes": key.scopes, "roles": key.roles}), "apikeys")
    return key, token


def revoke_key(session: Session, name: str, by: str = "admin") -> ApiKey:
    """Revoke the key of integration ``name``; it stops working at once."""
    key = session.scalars(select(ApiKey).where(ApiKey.name == name)).one_or_none()
    if key is None:
        raise NotFound("no API key named '{name}'", params={"name": name})
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        write_system_event(session, PendingEvent("apikey.revoked", by, key.revoked_at,
                                                 {"name": name, "prefix": key.prefix}), "apikeys")
    return key


def list_keys(session: Session) -> list[ApiKey]:
    """Return every key, newest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


def authenticate_key(session: Session, token: str) -> Caller | None:
    """Return the caller of an active key, else None. Reads only: a request's key lookup takes no
    write lock; :func:`record_use` remembers when the key was last used."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.token_hash == hash_token(token))).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return Caller(key.id, Actor(f"api:{key.name}", frozenset(key.roles)), frozenset(key.scopes), key.last_used_at)


def record_use(session: Session, caller: Caller, now: datetime) -> bool:
    """Remember that ``caller``'s key was used at ``now``, at most once per :data:`USE_RECORDED_EVERY`
    (whichever request comes first writes it); return whether this call wrote."""
    if not caller.use_due(now):
        return False
    done = session.execute(update(ApiKey).where(
        ApiKey.id == caller.key_id,
        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - USE_RECORDED_EVERY))
        .values(last_used_at=now).execution_options(synchronize_session=False))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def key_view(key: ApiKey) -> dict[str, Any]:
    """Return a key as JSON-able data (never its hash)."""
    return {"name": key.name, "prefix": key.prefix, "scopes": key.scopes, "roles": key.roles,
            "created_at": key.created_at.isoformat(), "created_by": key.created_by,
            "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None}
