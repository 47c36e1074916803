"""Drafts: working copies of a bundle kept in the database, saved file by file.

A draft starts as a copy of a deployed version's files (or empty, for a new bundle) and is
edited a file at a time (the workbench autosaves each file). Several drafts may exist at
once; none of them touches a running ticket: tickets keep the deployment they started on,
and only deploying a draft makes a new version (the same content is the same version).

Every path a draft accepts is checked here, once: relative, inside the bundle (no ``..``,
no absolute or drive paths, no backslashes, no hidden files), one of :data:`EXTENSIONS`,
at most :data:`MAX_FILE_BYTES`. A refusal names the file and changes nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .audit import PendingEvent, write_system_event
from .bundle import Bundle
from .db import Base
from .deploy import deploy, validate
from .draft_review import locate
from .errors import InvalidInput, NotFound, Problem
from .models import Deployment, DeploymentFile

EXTENSIONS = (".bpmn", ".dmn", ".json", ".md", ".j2")
KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".json": "json", ".md": "md"}
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_FILES = 500
MAX_PATH = 300
BUNDLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_SEGMENT = re.compile(r"^[^\x00-\x1f\x7f:*?\"<>|]+$")


class Draft(Base):
    """A working copy of a bundle: a name, the version it started from, who saved last."""

    __tablename__ = "owner_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    bundle: Mapped[str] = mapped_column(String(100))
    base_deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class DraftFile(Base):
    """One file of a draft, with who saved it last and when."""

    __tablename__ = "owner_draft_file"
    __table_args__ = (UniqueConstraint("draft_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("owner_draft.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(MAX_PATH))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(64))


class DraftDeployment(Base):
    """A deployment made from a draft, with the owner's note saying why."""

    __tablename__ = "owner_draft_deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("owner_draft.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text)
    created: Mapped[bool]
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(64))


def check_path(path: str) -> str:
    """Return ``path`` if a draft may hold a file there; else raise :class:`InvalidInput` naming it."""
    shown = path if isinstance(path, str) else repr(path)

    def refuse(why: str, **values: Any) -> InvalidInput:
        quoted = f"'{shown}'" if shown.isprintable() else repr(shown)
        return InvalidInput("{quoted}: " + why, file=shown, field="path", params={"quoted": quoted, **values})

    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise refuse("a file path is 1-{max_path} characters", max_path=MAX_PATH)
    if "\\" in path:
        raise refuse("use '/' between folders (a backslash could leave the bundle)")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise refuse("the path must be relative to the bundle, not absolute")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise refuse("the path must stay inside the bundle (no '..', '.' or empty folder names)")
    if any(p.startswith(".") or not _SEGMENT.match(p) for p in parts):
        raise refuse("folder and file names may not start with '.' nor hold control characters or :*?\"<>|")
    if PurePosixPath(path).suffix.lower() not in EXTENSIONS:
        raise refuse("only {extensions} files belong in a bundle", extensions=", ".join(EXTENSIONS))
    return path


def check_content(path: str, content: bytes) -> bytes:
    """Return ``content`` if it fits :data:`MAX_FILE_BYTES` and is UTF-8 text; else refuse, naming ``path``."""
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput("'{path}' is {size} KiB; a file may hold at most {limit} MiB", file=path, field="content",
                           params={"path": path, "size": len(content) // 1024, "limit": MAX_FILE_BYTES // 2 ** 20})
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("'{path}' is not UTF-8 text (byte {start})",
                           file=path, field="content", params={"path": path, "start": exc.start}) from exc
    return content


def kind_of(path: str) -> str:
    """Return the kind the workbench shows for a file: bpmn, dmn, json, md or other."""
    return KINDS.get(PurePosixPath(path).suffix.lower(), "other")


def _draft_dict(draft: Draft) -> dict[str, Any]:
    return {"id": draft.id, "name": draft.name, "bundle": draft.bundle,
            "base_deployment_id": draft.base_deployment_id,
            "updated_at": draft.updated_at.isoformat(), "updated_by": draft.updated_by}


def _get(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound("draft {draft_id} does not exist", draft_id=draft_id, params={"draft_id": draft_id})
    return draft


def _touch(draft: Draft, actor: str) -> None:
    draft.updated_at = clock.now()
    draft.updated_by = actor


def list_drafts(session: Session) -> list[dict[str, Any]]:
    """Return every draft, last saved first."""
    return [_draft_dict(d) for d in session.scalars(select(Draft).order_by(Draft.updated_at.desc(), Draft.id.desc()))]


def create_draft(session: Session, name: str, actor: str, from_deployment_id: int | None = None,
                 bundle: str | None = None) -> dict[str, Any]:
    """Start a draft: a copy of a deployed version's files, or an empty new bundle named ``bundle``."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise InvalidInput("a draft's name is 1-200 characters", field="name")
    base = None
    if from_deployment_id is not None:
        base = session.get(Deployment, from_deployment_id)
        if base is None:
            raise NotFound("deployment {from_deployment_id} does not exist",
                           field="from_deployment_id", params={"from_deployment_id": from_deployment_id})
    if bundle is None:  # the version's bundle, or one named after the draft
        bundle = base.name if base is not None else re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.")[:100]
    if not BUNDLE_NAME.fullmatch(bundle):
        raise InvalidInput("the bundle name '{bundle}' is 1-100 letters, digits, '_', '.' or '-'",
                           field="bundle", params={"bundle": bundle})
    now = clock.now()
    draft = Draft(name=name, bundle=bundle, base_deployment_id=base.id if base else None,
                  created_at=now, created_by=actor, updated_at=now, updated_by=actor)
    session.add(draft)
    session.flush()
    if base is not None:
        for file in session.scalars(select(DeploymentFile).where(DeploymentFile.deployment_id == base.id)):
            session.add(DraftFile(draft_id=draft.id, path=file.path, content=file.content, saved_at=now,
                                  saved_by=actor))
        session.flush()
    return get_draft(session, draft.id)


def get_draft(session: Session, draft_id: int) -> dict[str, Any]:
    """Return a draft with its files (path, kind, size, who saved it when)."""
    draft = _get(session, draft_id)
    rows = session.execute(select(DraftFile.path, DraftFile.content, DraftFile.saved_at, DraftFile.saved_by)
                           .where(DraftFile.draft_id == draft_id).order_by(DraftFile.path))
    files = [{"path": p, "kind": kind_of(p), "size": len(c), "saved_at": at.isoformat(), "saved_by": by}
             for p, c, at, by in rows]
    return {**_draft_dict(draft), "files": files}


def draft_files(session: Session, draft_id: int) -> dict[str, bytes]:
    """Return ``{path: content}`` of a draft."""
    _get(session, draft_id)
    rows = session.execute(select(DraftFile.path, DraftFile.content).where(DraftFile.draft_id == draft_id))
    return {p: c for p, c in rows}


def draft_bundle(session: Session, draft_id: int) -> Bundle:
    """Return a draft as the bundle deploying it would make."""
    return Bundle(_get(session, draft_id).bundle, draft_files(session, draft_id))


def read_file(session: Session, draft_id: int, path: str) -> bytes:
    """Return one file of a draft."""
    _get(session, draft_id)
    content = session.scalar(select(DraftFile.content).where(DraftFile.draft_id == draft_id,
                                                             DraftFile.path == path))
    if content is None:
        raise NotFound("draft {draft_id} has no file '{path}'", file=path, params={"draft_id": draft_id, "path": path})
    return content


def save_file(session: Session, draft_id: int, path: str, content: bytes, actor: str) -> dict[str, Any]:
    """Save (create or replace) one file of a draft."""
    draft = _get(session, draft_id)
    _store(session, draft, {check_path(path): check_content(path, content)}, actor)
    return {"saved": True, "updated_at": draft.updated_at.isoformat()}


def delete_file(session: Session, draft_id: int, path: str, actor: str) -> None:
    """Remove one file from a draft."""
    draft = _get(session, draft_id)
    gone = session.execute(delete(DraftFile).where(DraftFile.draft_id == draft_id, DraftFile.path == path))
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise NotFound("draft {draft_id} has no file '{path}'", file=path, params={"draft_id": draft_id, "path": path})
    _touch(draft, actor)


def _store(session: Session, draft: Draft, files: dict[str, bytes], actor: str) -> None:
    existing = {f.path: f for f in session.scalars(select(DraftFile).where(DraftFile.draft_id == draft.id))}
    if len(set(existing) | set(files)) > MAX_FILES:
        raise InvalidInput("a draft holds at most {max_files} files", field="files", params={"max_files": MAX_FILES})
    now = clock.now()
    for path, content in sorted(files.items()):
        row = existing.get(path)
        if row is None:
            session.add(DraftFile(draft_id=draft.id, path=path, content=content, saved_at=now, saved_by=actor))
        elif row.content != content:
            row.content, row.saved_at, row.saved_by = content, now, actor
    _touch(draft, actor)
    session.flush()


def upload(session: Session, draft_id: int, uploads: list[tuple[str, bytes]], actor: str) -> dict[str, Any]:
    """Put uploaded files (zips unpacked) into a draft; every file is checked before any is stored."""
    draft = _get(session, draft_id)
    files: dict[str, bytes] = {}
    for filename, content in uploads:
        if filename.lower().endswith(".zip"):
            files.update(unzip(filename, content))
        else:
            name = filename.replace("\\", "/").rsplit("/", 1)[-1]
            files[check_path(name)] = check_content(name, content)
    if not files:
        raise InvalidInput("choose a zip or BPMN, DMN, JSON or Markdown files to upload", field="files")
    if sum(map(len, files.values())) > MAX_UPLOAD_BYTES:
        raise InvalidInput("the upload unpacks to more than {max_upload_bytes} MiB",
                           field="files", params={"max_upload_bytes": MAX_UPLOAD_BYTES // 2 ** 20})
    _store(session, draft, files, actor)
    return get_draft(session, draft_id)


def unzip(filename: str, content: bytes) -> dict[str, bytes]:
    """Return the files of a zip; a path outside the bundle or of another type refuses the whole zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidInput("{filename} is not a zip archive",
                           file=filename, field="files", params={"filename": filename}) from exc
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename.split("/", 1)[0] == "__MACOSX":
                continue
            shown = f"{filename}:{info.filename}"
            try:
                check_path(info.filename)
            except InvalidInput as exc:
                raise InvalidInput("{shown} — {message}",
                                   file=shown, field="files", params={"shown": shown, "message": exc.message}) from exc
            total += info.file_size
            if total > MAX_UPLOAD_BYTES or len(files) >= MAX_FILES:
                raise InvalidInput("{filename} unpacks to more than {max_upload_bytes} MiB or {max_files} files",
                                   file=filename, field="files", params={
                                       "filename": filename, "max_upload_bytes": MAX_UPLOAD_BYTES // 2 ** 20,
                                       "max_files": MAX_FILES})
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError) as exc:
                raise InvalidInput("{shown} cannot be read: {exc}",
                                   file=shown, field="files", params={"shown": shown, "exc": exc}) from exc
            files[info.filename] = check_content(shown, data)
    if files and all("/" in p for p in files) and len({p.split("/", 1)[0] for p in files}) == 1:
        files = {p.split("/", 1)[1]: c for p, c in files.items()}  # a zipped folder: its contents
    return files


def zip_files(files: dict[str, bytes]) -> bytes:
    """Return a zip of ``files`` (paths kept, sorted, fixed timestamps: the same files make the same zip)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), files[path],
                             compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def deployment_files(session: Session, deployment_id: int) -> dict[str, bytes]:
    """Return ``{path: content}`` of a deployed version."""
    if session.get(Deployment, deployment_id) is None:
        raise NotFound("deployment {deployment_id} does not exist",
                       deployment_id=deployment_id, params={"deployment_id": deployment_id})
    rows = session.execute(select(DeploymentFile.path, DeploymentFile.content)
                           .where(DeploymentFile.deployment_id == deployment_id))
    return {p: c for p, c in rows}


def deploy_draft(session: Session, draft_id: int, note: str, actor: str) -> dict[str, Any]:
    """Deploy a draft as the next version of its bundle (the same content is the same version); keep the note."""
    if not isinstance(note, str) or not note.strip() or len(note) > 2000:
        raise InvalidInput("say in a note (1-2000 characters) what this version changes", field="note")
    bundle = draft_bundle(session, draft_id)
    if not bundle.files:
        raise InvalidInput("draft {draft_id} has no files to deploy", field="files", params={"draft_id": draft_id})
    result = deploy(session, bundle, actor)
    now = clock.now()
    session.add(DraftDeployment(draft_id=draft_id, deployment_id=result.deployment_id, note=note.strip(),
                                created=result.created, deployed_at=now, deployed_by=actor))
    write_system_event(session, PendingEvent("deployment.noted", actor, now, {
        "deployment_id": result.deployment_id, "draft_id": draft_id, "note": note.strip()}), "deployments")
    session.flush()
    return {"deployment_id": result.deployment_id, "name": result.name, "version": result.version,
            "created": result.created, "note": note.strip(),
            "warnings": [w.to_dict() for w in result.warnings]}


def deploy_notes(session: Session, draft_id: int) -> list[dict[str, Any]]:
    """Return the deployments made from a draft with their notes, newest first."""
    _get(session, draft_id)
    rows = session.execute(select(DraftDeployment, Deployment.name, Deployment.version)
                           .join(Deployment, Deployment.id == DraftDeployment.deployment_id)
                           .where(DraftDeployment.draft_id == draft_id).order_by(DraftDeployment.id.desc()))
    return [{"deployment_id": d.deployment_id, "name": name, "version": version, "note": d.note,
             "created": d.created, "deployed_at": d.deployed_at.isoformat(), "deployed_by": d.deployed_by}
            for d, name, version in rows]


def validate_draft(session: Session, draft_id: int,
                   say: Callable[[Problem], str] | None = None) -> dict[str, Any]:
    """Validate and lint a draft exactly as ``aftersales validate`` does; problems located to rows and fields,
    each with ``localized_message`` when ``say`` (the page's reader's words for a finding) is given."""
    bundle = draft_bundle(session, draft_id)
    result = validate(bundle, session)
    return {"ok": not result.errors, "problems": located(bundle, result.problems, say)}


def located(bundle: Bundle, problems: Iterable[Problem],
            say: Callable[[Problem], str] | None = None) -> list[dict[str, Any]]:
    """Return ``problems`` as JSON located to rows and fields, with ``say``'s text as ``localized_message``."""
    return [dict(locate(bundle, p), **({"localized_message": say(p)} if say else {})) for p in problems]



def bundle_versions(session: Session) -> list[dict[str, Any]]:
    """Return each bundle with its deployed versions, newest first; the last activated one is current."""
    notes = {d: n for d, n in session.execute(select(DraftDeployment.deployment_id, DraftDeployment.note)
                                              .order_by(DraftDeployment.id))}
    bundles: dict[str, list[dict[str, Any]]] = {}
    rows = session.scalars(select(Deployment).order_by(Deployment.name, Deployment.version.desc()))
    for dep in rows:
        bundles.setdefault(dep.name, []).append({
            "id": dep.id, "version": dep.version, "deployed_at": dep.deployed_at.isoformat(),
            "deployed_by": dep.deployed_by, "activated_at": dep.activated_at, "note": notes.get(dep.id),
            "processes": sorted(p.process_id for p in dep.processes if p.kind == "process")})
    out = []
    for name, versions in bundles.items():
        current = max(versions, key=lambda v: (v["activated_at"], v["id"]))
        for v in versions:
            v["current"] = v is current
            v["activated_at"] = v["activated_at"].isoformat()
        out.append({"name": name, "versions": versions})
    return out
