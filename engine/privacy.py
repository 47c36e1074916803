"""Personal data in instance and audit data: masked for roles without the need to see it.

Customers' names, phone numbers, e-mail addresses and addresses (inside a ``customer``
record, or under keys such as ``customer_name``, ``phone``, ``email``) are replaced by a
masked form (``A***``, ``***1234``, ``a***@example.com``) unless the role needs that kind
of data for its work: :data:`ROLE_SEES` is the one table of who sees what, read by every
page, document, export and API response (``mask_for``) and by the tests.

Roles ``admin``, ``supervisor`` and ``pii_viewer`` may in addition unmask one instance's
trail; doing so is an explicit act, written to the ``privacy`` audit stream before any
unmasked data leaves the engine.
"""

from __future__ import annotations

import html
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

#: the kinds of personal data, and the keys that hold each kind
CATEGORY_KEYS: dict[str, frozenset[str]] = {
    "name": frozenset({"name", "first_name", "last_name", "full_name", "customer_name"}),
    "phone": frozenset({"phone", "mobile", "customer_phone", "contact_phone", "wechat"}),
    "email": frozenset({"email", "e_mail", "customer_email", "contact_email"}),
    "address": frozenset({"address", "customer_address"}),
}
CATEGORIES = frozenset(CATEGORY_KEYS)
#: what each role sees of a customer in clear, by need; every other kind is masked
ROLE_SEES: dict[str, frozenset[str]] = {
    "agent": CATEGORIES,                                    # talks to the customer on every channel
    "supervisor": CATEGORIES,                               # complaints, escalations, call-backs
    "technician": frozenset({"name", "phone", "address"}),  # calls ahead and visits
    "warehouse": frozenset({"name", "address"}),            # ships parts and units
    "qa": frozenset(),
    "auditor": frozenset(),
    "process_owner": frozenset(),
    "admin": frozenset(),
}


def may_unmask(actor: Actor) -> bool:
    """Tell whether ``actor`` has the right to see personal data."""
    return bool(actor.roles & UNMASK_ROLES)


def visible_categories(roles: frozenset[str] | set[str]) -> frozenset[str]:
    """Return the kinds of personal data the holder of ``roles`` sees in clear (a role not in the table: none)."""
    seen: frozenset[str] = frozenset()
    for role in roles:
        seen |= ROLE_SEES.get(role, frozenset())
    return seen


def sees(actor: Actor | None) -> frozenset[str]:
    """Return the kinds of personal data ``actor`` sees in clear."""
    return visible_categories(actor.roles) if actor is not None else frozenset()


def category_of(key: str) -> str | None:
    """Return the kind of personal data a key holds (None: not a contact field)."""
    lower = key.lower()
    for category, keys in CATEGORY_KEYS.items():
        if lower in keys:
            return category
    return None


def mask_for(value: Any, visible: frozenset[str], in_person: bool = False) -> Any:
    """Return ``value`` with every personal field masked whose kind is not in ``visible``."""
    if visible >= CATEGORIES:
        return value
    if isinstance(value, list):
        return [mask_for(v, visible, in_person) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        lower = str(key).lower()
        if lower in PERSONAL_KEYS or (in_person and lower in PERSON_FIELDS):
            out[key] = item if category_of(lower) in visible else mask_all(item)
        else:
            out[key] = mask_for(item, visible, lower in PERSON_RECORDS)
    return out


def personal_values(value: Any, visible: frozenset[str], in_person: bool = False) -> dict[str, str]:
    """Return each hidden personal string inside ``value`` with its masked form (for free text)."""
    found: dict[str, str] = {}
    if isinstance(value, list):
        for v in value:
            found.update(personal_values(v, visible, in_person))
    elif isinstance(value, dict):
        for key, item in value.items():
            lower = str(key).lower()
            if lower in PERSONAL_KEYS or (in_person and lower in PERSON_FIELDS):
                if category_of(lower) not in visible:
                    found.update(_strings(item))
            else:
                found.update(personal_values(item, visible, lower in PERSON_RECORDS))
    return found


def _strings(value: Any) -> dict[str, str]:
    if isinstance(value, str) and len(value) >= 2:
        return {value: str(mask_value(value))}
    if isinstance(value, dict):
        return {k: v for item in value.values() for k, v in _strings(item).items()}
    if isinstance(value, list):
        return {k: v for item in value for k, v in _strings(item).items()}
    return {}


def mask_text(text: str, hidden: dict[str, str]) -> str:
    """Replace every hidden personal value in ``text`` (a document, a message) by its masked form.

    Values are replaced longest first, in their plain and HTML-escaped spellings, so a
    name inside an e-mail address does not leave half of the address behind.
    """
    for clear in sorted(hidden, key=len, reverse=True):
        for spelling in {clear, html.escape(clear, quote=True), html.escape(clear, quote=False)}:
            text = text.replace(spelling, hidden[clear])
    return text


def keep_hidden_values(submitted: Any, shown: Any, clear: Any) -> Any:
    """Return ``submitted`` with every value left as it was shown masked put back to its clear value.

    A role that sees a pre-filled form masked and submits it unchanged must not overwrite
    the customer's data with the mask.
    """
    if isinstance(submitted, dict) and isinstance(shown, dict) and isinstance(clear, dict):
        return {k: keep_hidden_values(v, shown.get(k), clear.get(k)) for k, v in submitted.items()}
    if isinstance(submitted, list) and isinstance(shown, list) and isinstance(clear, list):
        return [keep_hidden_values(v, shown[i] if i < len(shown) else None, clear[i] if i < len(clear) else None)
                for i, v in enumerate(submitted)]
    if submitted == shown and shown != clear and clear is not None:
        return clear
    return submitted


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
    """Return ``value`` (any JSON data) with every personal field masked."""
    return mask_for(value, frozenset(), in_person)


def record_unmasking(session: Session, actor: Actor, what: str, reason: str,
                     instance_id: int | None = None) -> None:
    """Refuse unless ``actor`` may unmask; else write who looked at what and why."""
    if not may_unmask(actor):
        raise PermissionDenied("your roles do not include the right to see personal data (one of {roles})",
                               params={"roles": ", ".join(sorted(UNMASK_ROLES))})
    reason = reason.strip()
    if not reason:
        raise InvalidInput("give a reason for looking at personal data", field="reason")
    write_system_event(session, PendingEvent("personal_data.unmasked", actor.username, clock.now(), {
        "what": what, "instance_id": instance_id, "reason": reason[:500]}), "privacy")
