"""Teams (service regions) and skills of field technicians, as an administrator edits them.

Dispatch (:mod:`handlers.dispatch`) chooses among ``dispatch_technician`` rows by region,
skill, working days and hours; this module changes those rows, checked field by field and
audited (``teams`` stream: who changed what, old and new). The regions and skills one may
choose from are the catalogue's (``processes/data/technicians.json``) plus those an admin
added, stored as the setting ``dispatch.catalogue``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.audit import PendingEvent, write_system_event
from engine.settings import Problem, get_setting, problem, refuse, set_setting

from .dispatch import Technician

CATALOGUE = "dispatch.catalogue"
SHIPPED = Path(__file__).resolve().parent.parent / "processes" / "data" / "technicians.json"
KINDS = ("regions", "skills")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_USERNAME = re.compile(r"[A-Za-z0-9_.]{1,64}")
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def catalogue(session: Session) -> dict[str, list[dict[str, str]]]:
    """Return the regions and skills to choose from: the shipped ones and those an admin added."""
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8")) if SHIPPED.is_file() else {}
    added = get_setting(session, CATALOGUE, {}) or {}
    out = {}
    for kind in KINDS:
        entries = [{"code": e["code"], "name": e.get("name", e["code"]), "name_zh": e.get("name_zh", "")}
                   for e in shipped.get(kind, []) + added.get(kind, [])]
        out[kind] = list({e["code"]: e for e in entries}.values())
    return out


def add_to_catalogue(session: Session, kind: str, code: str, name: str, name_zh: str, by: str) -> None:
    """Add a region or skill technicians may then be given (audited as a setting change)."""
    code, name, name_zh = code.strip(), name.strip(), name_zh.strip()
    problems: list[Problem] = []
    if kind not in KINDS:
        problems.append(problem("kind", "choose regions or skills"))
    elif not _CODE.fullmatch(code):
        problems.append(problem("code", "a code is lower-case letters, digits and '_', starting with a letter"))
    elif code in {e["code"] for e in catalogue(session)[kind]}:
        problems.append(problem("code", "{code!r} exists already", code=code))
    if not name or len(name) > 80:
        problems.append(problem("name", "a name of 1 to 80 characters"))
    if len(name_zh) > 80:
        problems.append(problem("name_zh", "a name of 1 to 80 characters"))
    refuse(problems, "the new entry")
    added = dict(get_setting(session, CATALOGUE, {}) or {})
    added[kind] = [*added.get(kind, []), {"code": code, "name": name, "name_zh": name_zh}]
    set_setting(session, CATALOGUE, added, by)


def list_technicians(session: Session) -> list[Technician]:
    """Return every technician, by region and username."""
    return list(session.scalars(select(Technician).order_by(Technician.region, Technician.username)))


def technician_view(tech: Technician) -> dict[str, Any]:
    """Return what the page shows and edits of a technician."""
    hours = tech.working_hours or {}
    return {"username": tech.username, "name": tech.name, "region": tech.region, "skills": list(tech.skills),
            "active": tech.active, "days": list(hours.get("days", [])), "start": hours.get("start", ""),
            "end": hours.get("end", "")}


def save_technician(session: Session, username: str, values: dict[str, Any], by: str, new: bool = False) -> dict:
    """Create or change a technician's name, region, skills, working days and hours, and whether
    dispatch may choose them; every field is checked first; returns what changed (old, new)."""
    known = catalogue(session)
    username = username.strip()
    tech = session.get(Technician, username)
    problems: list[Problem] = []
    if new and not _USERNAME.fullmatch(username):
        problems.append(problem("username", "a username is 1 to 64 letters, digits, '.' or '_'"))
    elif new and tech is not None:
        problems.append(problem("username", "technician {username!r} exists already", username=username))
    name = str(values.get("name", "")).strip()
    if not name or len(name) > 120:
        problems.append(problem("name", "a name of 1 to 120 characters"))
    region = str(values.get("region", ""))
    if region not in {e["code"] for e in known["regions"]}:
        problems.append(problem("region", "{value!r} is not a region of the catalogue", value=region))
    skills = list(dict.fromkeys(values.get("skills", [])))
    unknown = [s for s in skills if s not in {e["code"] for e in known["skills"]}]
    if not skills:
        problems.append(problem("skills", "choose at least one skill"))
    elif unknown:
        problems.append(problem("skills", "{value!r} is not a skill of the catalogue", value=unknown[0]))
    try:
        days = sorted({int(d) for d in values.get("days", [])})
    except ValueError:
        days = [0]
    if not days or not set(days) <= set(range(1, 8)):
        problems.append(problem("days", "choose the working days (Monday to Sunday)"))
    start, end = str(values.get("start", "")).strip(), str(values.get("end", "")).strip()
    if not _CLOCK.fullmatch(start):
        problems.append(problem("start", "{value!r} is not a time like 09:00", value=start))
    if not _CLOCK.fullmatch(end):
        problems.append(problem("end", "{value!r} is not a time like 18:00", value=end))
    elif _CLOCK.fullmatch(start) and end <= start:
        problems.append(problem("end", "the day must end after it starts"))
    refuse(problems, "the technician")
    wanted = {"name": name, "region": region, "skills": skills, "active": bool(values.get("active")),
              "working_hours": {"days": days, "start": start, "end": end}}
    if tech is None:
        if not new:
            refuse([problem("username", "there is no technician {username!r}", username=username)])
        tech = Technician(username=username, leave=[], slot_minutes=120, **wanted)
        session.add(tech)
        changes = {k: [None, v] for k, v in wanted.items()}
    else:
        changes = {k: [getattr(tech, k), v] for k, v in wanted.items() if getattr(tech, k) != v}
        for key, (_old, value) in changes.items():
            setattr(tech, key, value)
    session.flush()
    if changes:
        write_system_event(session, PendingEvent("technician.created" if new else "technician.updated", by,
                                                 clock.now(), {"username": username, "changes": changes}),
                           stream="teams")
    return changes
