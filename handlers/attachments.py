"""Files kept with a ticket: photos, proof of purchase, documents — checked by content.

Any page that takes a file calls :func:`add_attachment` in its own transaction with the
ticket number, the file's name and bytes, the type the browser claimed, who uploaded it
and where it came from (``source``: ``ticket`` for the ticket page, ``task:<field>`` for a
task form's file field, ``customer`` for the self-service page, ``intake`` for a new
request). The function refuses a file over :data:`MAX_BYTES` or whose *content* is not one
of :data:`ALLOWED` (the claimed type and the name's extension are ignored, so a renamed
executable, HTML or SVG is refused) with an :class:`~engine.errors.InvalidInput` naming the
field ``file``, and otherwise stores it in the database (works on SQLite and PostgreSQL
alike, travels with backups, needs no folder on a fresh clone), writes an
``attachment.added`` event to the ticket's audit trail and returns the row.
:func:`list_attachments` lists a ticket's files without their bytes; :func:`read_attachment`
returns one file with its bytes after checking the reader's roles (:func:`may_read`); the
staff UI serves it at ``/tickets/<key>/attachments/<id>`` as a download.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime

from sqlalchemy import LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import clock, store
from engine.audit import PendingEvent, write_instance_events
from engine.db import Base
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.identity import Actor
from engine.models import Instance
from engine.privacy import visible_categories

#: the largest file kept (10 MB)
MAX_BYTES = 10 * 1024 * 1024
#: the types kept, found from the first bytes of the content, with the extension each gets
ALLOWED = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
#: roles that add files to a ticket (the people working on it)
MAY_ADD = frozenset({"agent", "supervisor", "technician", "warehouse"})
SOURCE = re.compile(r"^(ticket|intake|customer|task:[A-Za-z0-9_.-]{1,80})$")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta|a\s)", re.I)
_TEXT_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]+')


class Attachment(Base):
    """One file kept with a ticket, its bytes in the database."""

    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), index=True)
    instance_id: Mapped[int] = mapped_column(index=True)
    filename: Mapped[str] = mapped_column(String(160))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


def sniff(content: bytes) -> str | None:
    """Return the type of ``content`` from its first bytes if it is one of :data:`ALLOWED`, else None."""
    head = content[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return "text/plain" if _is_plain_text(content) else None


def _is_plain_text(content: bytes) -> bool:
    """Tell whether ``content`` is UTF-8 or GB 18030 text that is neither markup nor a script."""
    if not content or _TEXT_CONTROLS.search(content):
        return False
    text = content.removeprefix(b"\xef\xbb\xbf")
    if text.lstrip().startswith(b"#!") or _MARKUP.search(text[:4096]):
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            text.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def clean_filename(filename: str, content_type: str) -> str:
    """Return a safe file name: no folders, no control or shell characters, the type's extension.

    Chinese and other letters stay; a name whose extension does not match the content gets
    the content's extension added, so a download never opens as another type.
    """
    name = unicodedata.normalize("NFC", str(filename or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" ._") or "attachment"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    wanted = ALLOWED[content_type]
    given = f".{ext.lower()}"
    same = {".jpeg": ".jpg", ".heif": ".heic", ".text": ".txt", ".log": ".txt"}.get(given, given)
    if same != wanted:
        stem = name
    stem = stem[: 150 - len(wanted)].rstrip(" ._") or "attachment"
    return f"{stem}{wanted}"


def may_read(actor: Actor) -> bool:
    """Tell whether ``actor`` may open a ticket's files: they show the customer, so by ``ROLE_SEES``."""
    return bool(visible_categories(actor.roles))


def add_attachment(session: Session, ticket: str, filename: str, content: bytes, content_type: str | None,
                   uploaded_by: str, source: str = "ticket") -> Attachment:
    """Check and keep one file with ticket ``ticket`` (its number); audit it; return the row.

    ``content_type`` is what the sender claimed; only the content decides the type kept.
    """
    if not content:
        raise InvalidInput("file: choose a file to attach (the one sent was empty)", field="file", reason="empty")
    if len(content) > MAX_BYTES:
        raise InvalidInput("file: {filename} is {size:.1f} MB; the limit is {limit} MB" if filename else
                           "file: the file is {size:.1f} MB; the limit is {limit} MB", field="file", reason="too_large",
                           params={"filename": filename, "size": len(content) / 2 ** 20, "limit": MAX_BYTES // 2 ** 20})
    kind = sniff(content)
    if kind is None:
        raise InvalidInput("file: {filename} is not a photo (JPEG, PNG, WebP, HEIC), a PDF or plain text; other "
                           "files (programs, web pages, SVG) are refused" if filename else
                           "file: the file is not a photo (JPEG, PNG, WebP, HEIC), a PDF or plain text; other "
                           "files (programs, web pages, SVG) are refused",
                           field="file", reason="type", claimed=content_type, params={"filename": filename})
    if not SOURCE.match(source):
        raise InvalidInput("source '{source}' is not ticket, intake, customer or task:<field>",
                           field="source", params={"source": source})
    instance = instance_of(session, ticket)
    store.lock_instance(session, instance.id)
    now = clock.now()
    row = Attachment(ticket_number=ticket, instance_id=instance.id, filename=clean_filename(filename, kind),
                     content_type=kind, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                     uploaded_by=uploaded_by[:120], source=source, created_at=now, content=content)
    session.add(row)
    session.flush()
    write_instance_events(session, instance, [PendingEvent("attachment.added", uploaded_by, now, {
        "attachment": row.id, "filename": row.filename, "content_type": kind, "size": row.size,
        "sha256": row.sha256, "source": source})])
    instance.updated_at = now
    session.flush()
    return row


def list_attachments(session: Session, ticket: str) -> list[Attachment]:
    """Return a ticket's files, oldest first, without their bytes."""
    return list(session.scalars(select(Attachment).where(Attachment.ticket_number == ticket)
                                .order_by(Attachment.created_at, Attachment.id)))


def read_attachment(session: Session, ticket: str, attachment_id: int, actor: Actor) -> tuple[Attachment, bytes]:
    """Return one file of ``ticket`` and its bytes, if ``actor``'s roles may open it."""
    if not may_read(actor):
        raise PermissionDenied("your roles do not see customers' data, so they do not open a ticket's files")
    row = session.get(Attachment, attachment_id)
    if row is None or row.ticket_number != ticket:
        raise NotFound("ticket {ticket} has no attachment {attachment_id}",
                       params={"ticket": ticket, "attachment_id": attachment_id})
    return row, bytes(row.content)


def instance_of(session: Session, ticket: str) -> Instance:
    """Return the process instance of ticket number ``ticket`` (the newest, should a number repeat)."""
    instance = session.scalars(select(Instance).where(Instance.business_key == ticket)
                               .order_by(Instance.id.desc()).limit(1)).first()
    if instance is None:
        raise NotFound("ticket {ticket} does not exist", params={"ticket": ticket})
    return instance
