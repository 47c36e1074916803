"""Personal data in instance and audit data: masked for roles without the right to see it.

Customers' names, phone numbers and e-mail addresses (inside a ``customer`` record, or
under keys such as ``customer_name``, ``phone``, ``email``) are replaced by a masked
form (``A***``, ``***1234``, ``a***@example.com``). Roles ``admin``, ``supervisor`` and
``pii_viewer`` may unmask; doing so is an explicit act, written to the ``privacy``
audit stream before any unmasked data leaves the engine.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from . import clock
from .audit import PendingEvent, write_system_event
from .errors import InvalidInput, PermissionDenied
from .identity import Actor

#: roles that may ask to see personal data unmasked
UNMASK_ROLES = frozenset({"admin", "supervisor", "pii_viewer"})
#: records whose every contact field is personal
PERSON_RECORDS = frozenset({"customer", "contact", "requester", "caller"})
#: fields that are personal inside such a record
PERSON_FIELDS = frozenset({"name", "phone", "email", "address", "wechat", "mobile", "first_name",
                           "last_name", "full_name"})
#: keys that are personal wherever they appear
PERSONAL_KEYS = frozenset({"customer_name", "customer_phone", "customer_email", "customer_address",
                           "phone", "email", "mobile", "e_mail", "contact_phone", "contact_email",
                           "address", "wechat"})
MASK = "***"


def may_unmask(actor: Actor) -> bool:
    """Tell whether ``actor`` has the right to see personal data."""
    return bool(actor.roles & UNMASK_ROLES)


def mask_value(value: Any) -> Any:
    """Mask one personal value, keeping just enough to recognise it."""
    if isinstance(value, (dict, list)):
        return mask_all(value)
    if not isinstance(value, str):
        return value if value is None or isinstance(value, bool) else MASK
    if not value:
        return value
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}{MASK}@{domain}"
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and len(digits) >= len(value) - 4:
        return f"{MASK}{digits[-4:]}"
    return f"{value[:1]}{MASK}"


def mask_all(value: Any) -> Any:
    """Mask every string inside ``value`` (a personal record as a whole)."""
    if isinstance(value, dict):
        return {k: mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_all(v) for v in value]
    return mask_value(value)


def mask_personal(value: Any, in_person: bool = False) -> Any:
    """Return ``value`` (any JSON data) with its personal fields masked."""
    if isinstance(value, list):
        return [mask_personal(v, in_person) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        lower = str(key).lower()
        if lower in PERSONAL_KEYS or (in_person and lower in PERSON_FIELDS):
            out[key] = mask_all(item)
        else:
            out[key] = mask_personal(item, lower in PERSON_RECORDS)
    return out


def record_unmasking(session: Session, actor: Actor, what: str, reason: str,
                     instance_id: int | None = None) -> None:
    """Refuse unless ``actor`` may unmask; else write who looked at what and why."""
    if not may_unmask(actor):
        raise PermissionDenied("your roles do not include the right to see personal data "
                               f"(one of {', '.join(sorted(UNMASK_ROLES))})")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("give a reason for looking at personal data", field="reason")
    write_system_event(session, PendingEvent("personal_data.unmasked", actor.username, clock.now(), {
        "what": what, "instance_id": instance_id, "reason": reason[:500]}), "privacy")
