"""Deploy = validate + lint + freeze into an immutable, content-hashed deployment."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import clock, spiff
from .audit import PendingEvent, write_system_event
from .bundle import Bundle, kind_of
from .errors import DeploymentInvalid, Problem, finding
from .identity import ensure_role
from .lint import LintResult, lint_bundle
from .models import Deployment, DeploymentFile, ProcessDefinition, Role
from .projection import role_for_lane


@dataclass
class DeployResult:
    """The outcome of a deployment."""

    deployment_id: int
    name: str
    version: int
    content_hash: str
    created: bool
    processes: list[str]
    warnings: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-able data."""
        return {"deployment_id": self.deployment_id, "name": self.name, "version": self.version,
                "content_hash": self.content_hash, "created": self.created, "processes": self.processes,
                "warnings": [w.to_dict() for w in self.warnings]}


def validate(bundle: Bundle, session: Session | None = None) -> LintResult:
    """Check a bundle without deploying it; lanes naming unknown roles are reported as warnings."""
    result = lint_bundle(bundle)
    known: set[str] = set()
    if session is not None:
        try:
            with session.begin_nested():
                known = set(session.scalars(select(Role.name)))
        except SQLAlchemyError:  # a database not migrated yet: every lane's role is new to it
            known = set()
    for proc in result.processes:
        for lane in proc["lanes"]:
            role = role_for_lane(lane)
            if role not in known:
                result.add(proc["file"], finding("lane '{lane}' maps to role '{role}', which does not exist yet; "
                                                 "deploying creates it", lane=lane, role=role),
                           None, rule="lanes", severity="warning")
    return result


def deploy(session: Session, bundle: Bundle, actor: str = "system") -> DeployResult:
    """Validate and store ``bundle``; the same content returns the existing version."""
    content_hash = bundle.content_hash
    existing = session.scalars(select(Deployment).where(
        Deployment.name == bundle.name, Deployment.content_hash == content_hash)).one_or_none()
    if existing is not None:
        existing.activated_at = clock.now()
        write_system_event(session, PendingEvent("deployment.reactivated", actor, clock.now(), {
            "deployment_id": existing.id, "name": existing.name, "version": existing.version}), "deployments")
        return DeployResult(existing.id, existing.name, existing.version, content_hash, False,
                            [p.process_id for p in existing.processes])
    result = validate(bundle, session)
    if result.errors:
        raise DeploymentInvalid(result.problems)
    for lane in sorted(result.lanes):
        role = role_for_lane(lane)
        if role:
            ensure_role(session, role, f"created for lane {lane!r}")
    version = (session.scalar(select(func.max(Deployment.version)).where(Deployment.name == bundle.name)) or 0) + 1
    now = clock.now()
    deployment = Deployment(
        name=bundle.name, version=version, content_hash=content_hash, deployed_at=now, deployed_by=actor,
        activated_at=now, warnings=[p.to_dict() for p in result.problems],
        specs={"specs": {name: spiff.spec_to_dict(spec) for name, spec in result.specs.items()},
               "dependencies": result.dependencies},
    )
    session.add(deployment)
    session.flush()
    for path, content in sorted(bundle.files.items()):
        session.add(DeploymentFile(deployment_id=deployment.id, path=path, kind=kind_of(path),
                                   sha256=hashlib.sha256(content).hexdigest(), content=content))
    for proc in result.processes:
        session.add(ProcessDefinition(deployment_id=deployment.id, kind="process", **proc))
    for dec in result.decisions:
        session.add(ProcessDefinition(deployment_id=deployment.id, kind="decision", **dec))
    session.flush()
    write_system_event(session, PendingEvent("deployment.created", actor, now, {
        "deployment_id": deployment.id, "name": bundle.name, "version": version, "content_hash": content_hash,
        "files": {p: hashlib.sha256(c).hexdigest() for p, c in sorted(bundle.files.items())},
        "warnings": len(result.problems)}), "deployments")
    return DeployResult(deployment.id, bundle.name, version, content_hash, True,
                        [p["process_id"] for p in result.processes], result.problems)
