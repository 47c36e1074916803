"""The mail intake: an inbound e-mail opens a request, or joins the open ticket it answers.

:func:`take_in` is the one entry of both sources (the SMTP listener of ``aftersales
mail-intake`` and the Maildir worker job, :mod:`handlers.mail_intake_sources`), as Odoo's
mail gateway and Zammad's e-mail channel work:

- a message whose subject, ``In-Reply-To`` or ``References`` names an open ticket (its
  number, or the Message-ID of a notification we sent about it) *from that ticket's
  customer's address* becomes a repeat contact on it: a ``ticket_contact`` row, the mail on
  the ticket's timeline and message ``customer_contact`` to its agents, as a repeat contact
  from the API reaches them;
- any other message opens a request through the channel intake (``engine.cockpit
  .open_request``, channel ``email``): the process numbers it at arrival, acknowledges it by
  e-mail through the outbox (the number in the subject, in the mail's language) and starts
  the first-response clock; an agent triages it.

Attachments go to the attachment store (:mod:`handlers.attachments`, its size and type
limits); a refused one is named on the ticket's timeline and in the acknowledgement.
Every message is logged in ``mail_intake`` (opened, appended or refused with the reason);
a Message-ID already logged is a duplicate and changes nothing else, and so does a
refused message (noise, loops, malformed, too large, no sender).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import String, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import clock, cockpit
from engine.audit import PendingEvent, write_instance_events
from engine.db import Base, Database
from engine.errors import ConfigError, InvalidInput, MessageNotCorrelated
from engine.identity import Actor
from engine.message_contracts import Sender
from engine.settings import get_setting, problem, refuse

from . import attachments, ticketing
from .mail_intake_parse import MAX_BYTES, IncomingMail, Refusal, read_mail
from .outbox import Outbox
from .ticket_notes import TicketActivity, message_customer
from .transports import current_sender

OUTCOMES = ("opened", "appended", "refused")
SOURCES = ("smtp", "maildir", "direct")
#: who takes mail in, on audit trails and timelines
INTAKE_ACTOR = "mail-intake"
#: settings an admin may store (``/admin/settings``); the environment is the default
MAIL_INTAKE = "mail.intake"
_NOT_STATED = "–"  # the product model when the mail does not name one (the agent's triage sets it)
#: a Message-ID a header may carry, and the digest key of a mail that came without one (mail_intake_parse)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_DIGEST = re.compile(r"<sha256\.[0-9a-f]{64}@mail-intake>")


class MailIntake(Base):
    """One inbound e-mail and what became of it."""

    __tablename__ = "mail_intake"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the Message-ID (a digest of the bytes when there is none); empty for a duplicate's own row
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    size: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(32))
    ticket_number: Mapped[str | None] = mapped_column(String(32), index=True)
    #: the refusal's template and values; the attachments kept and refused
    details: Mapped[dict[str, Any]]


@dataclass(frozen=True)
class IntakeSettings:
    """Where mail comes in and what is taken (``AFTERSALES_MAIL_INTAKE_*``, or ``mail.intake``)."""

    host: str = "127.0.0.1"
    port: int = 8026
    maildir: str = ""
    max_bytes: int = MAX_BYTES
    process: str = "after_sales"

    @classmethod
    def from_env(cls) -> IntakeSettings:
        """Read ``AFTERSALES_MAIL_INTAKE_HOST``, ``_PORT``, ``_MAILDIR``, ``_MAX_BYTES`` and ``_PROCESS``."""
        env = os.environ
        try:
            port = int(env.get("AFTERSALES_MAIL_INTAKE_PORT", str(cls.port)))
            limit = int(env.get("AFTERSALES_MAIL_INTAKE_MAX_BYTES", str(cls.max_bytes)))
        except ValueError as exc:
            raise ConfigError("AFTERSALES_MAIL_INTAKE_PORT and _MAX_BYTES must be whole numbers") from exc
        if not 0 <= port <= 65535 or limit < 1024:
            raise ConfigError("AFTERSALES_MAIL_INTAKE_PORT must be a port, _MAX_BYTES at least 1024")
        return cls(host=env.get("AFTERSALES_MAIL_INTAKE_HOST", cls.host), port=port,
                   maildir=env.get("AFTERSALES_MAIL_INTAKE_MAILDIR", ""), max_bytes=limit,
                   process=env.get("AFTERSALES_MAIL_INTAKE_PROCESS", cls.process))

    def stored(self, session: Session) -> IntakeSettings:
        """Return these settings with an admin's stored ``mail.intake`` values (maildir, max_bytes) in place."""
        stored = get_setting(session, MAIL_INTAKE) or {}
        if not isinstance(stored, dict):
            return self
        maildir = stored.get("maildir", self.maildir)
        limit = stored.get("max_bytes", self.max_bytes)
        return IntakeSettings(self.host, self.port, str(maildir) if isinstance(maildir, str) else self.maildir,
                              limit if isinstance(limit, int) and limit >= 1024 else self.max_bytes, self.process)


def check_intake_settings(maildir: str, max_mb: str) -> dict[str, Any]:
    """Return the ``mail.intake`` setting to store from the admin's entries, refusing bad ones by field."""
    problems = []
    folder = str(maildir or "").strip()
    if folder and (not Path(folder).is_absolute() or not all((Path(folder) / sub).is_dir()
                                                               for sub in ("new", "cur", "tmp"))):
        problems.append(problem("mail_intake_maildir", "{value!r} is not a Maildir: an absolute path to a folder "
                                                       "with new/, cur/ and tmp/ (empty: SMTP only)", value=folder))
    size = 0.0
    try:
        size = float(str(max_mb or "").strip().replace(",", "."))
        if not 0.1 <= size <= 100:
            raise ValueError
    except ValueError:
        problems.append(problem("mail_intake_max_mb", "a size in MB from 0.1 to 100, such as 25"))
    refuse(problems, "the settings")
    return {"maildir": folder, "max_bytes": int(size * 2**20)}


def effective_intake_settings(session: Session) -> dict[str, Any]:
    """Return the Maildir and size limit in force (stored by an admin, else from the environment)."""
    settings = IntakeSettings.from_env().stored(session)
    return {"maildir": settings.maildir, "max_bytes": settings.max_bytes}


@dataclass(frozen=True)
class IntakeResult:
    """What :func:`take_in` did with one message."""

    log_id: int
    outcome: str
    reason: str | None = None
    ticket_number: str | None = None


def own_addresses(session: Session) -> frozenset[str]:
    """Return our own sender addresses (the current and the configured one): mail from them is a loop."""
    from .transports import SmtpSettings

    found = {parseaddr(current_sender(session))[1], parseaddr(SmtpSettings.from_env().sender)[1]}
    return frozenset(a.strip().lower() for a in found if a)


def take_in(db: Database, runtime: Any, raw: bytes, source: str, settings: IntakeSettings | None = None,
            envelope_sender: str | None = None) -> IntakeResult:
    """Take one RFC 5322 message in: open a request, append it to its open ticket, or refuse it (logged)."""
    if source not in SOURCES:
        raise InvalidInput("source '{source}' is not one of {sources}", field="source",
                           params={"source": source, "sources": ", ".join(SOURCES)})
    settings = settings or IntakeSettings.from_env()
    with db.transaction(write=False) as session:
        mail = read_mail(raw, own_addresses(session), settings.stored(session).max_bytes, envelope_sender)
    try:
        with db.transaction() as session:
            return _take(session, runtime, mail, source, settings)
    except IntegrityError:  # the same Message-ID was logged by a concurrent delivery meanwhile
        with db.transaction() as session:
            return _take(session, runtime, mail, source, settings)


def _take(session: Session, runtime: Any, mail: IncomingMail, source: str, settings: IntakeSettings) -> IntakeResult:
    now = clock.now()
    row = MailIntake(message_id=mail.message_id, received_at=now, source=source, sender=mail.sender,
                     subject=mail.subject, size=mail.size, outcome="refused", details={})
    earlier = session.scalar(select(MailIntake.id).where(MailIntake.message_id == mail.message_id))
    if earlier is not None:
        row.message_id = None
        return _refused(session, row, Refusal("duplicate", "Already received (entry {entry}, same Message-ID).",
                                              {"entry": earlier}))
    if mail.refusal is not None:
        return _refused(session, row, mail.refusal)
    session.add(row)
    session.flush()  # claims the Message-ID (unique) before anything else is written
    ticket = _answered_ticket(session, mail)
    try:
        with session.begin_nested():
            if ticket is not None:
                _append(session, runtime, mail, ticket, row)
            else:
                _open(session, runtime, mail, settings, row)
    except InvalidInput as exc:
        row.ticket_number = None
        return _refused(session, row, Refusal("rejected", "The request was refused: {detail}",
                                              {"detail": str(exc)[:300]}))
    return IntakeResult(row.id, row.outcome, None, row.ticket_number)


def _refused(session: Session, row: MailIntake, refusal: Refusal) -> IntakeResult:
    row.outcome, row.reason = "refused", refusal.reason
    row.details = {**(row.details or {}), "template": refusal.template, "values": refusal.values}
    session.add(row)
    session.flush()
    return IntakeResult(row.id, "refused", refusal.reason, None)


def _answered_ticket(session: Session, mail: IncomingMail) -> ticketing.Ticket | None:
    """Return the open ticket the mail answers, if it is the ticket's customer's (by address)."""
    numbers = mail.ticket_numbers()
    ids = mail.outbox_ids()
    if ids:
        numbers += list(session.scalars(select(Outbox.ticket_number).where(Outbox.id.in_(ids[:20]))))
    for number in dict.fromkeys(numbers):
        ticket = ticketing.get_ticket(session, number)
        if ticket is not None and ticket.status != "closed" and ticket.customer.email == mail.sender:
            return ticket
    return None


def _customer(session: Session, mail: IncomingMail) -> dict[str, Any]:
    known = session.scalars(select(ticketing.Customer).where(ticketing.Customer.email == mail.sender)
                            .order_by(ticketing.Customer.id).limit(1)).first()
    customer = {"name": mail.name, "email": mail.sender, "language": mail.language, "preferred_channel": "email",
                "tier": "normal"}
    if known is not None:  # a known customer keeps their name, phone and tier
        customer.update(name=known.name, tier=known.tier, **({"phone": known.phone} if known.phone else {}))
    return customer


def _said(mail: IncomingMail) -> str:
    text = mail.text or ""
    return (f"{mail.subject}\n\n{text}" if mail.subject else text).strip()[:4000]


def _model(session: Session, mail: IncomingMail) -> str:
    from .warranty import Model

    text = f"{mail.subject} {mail.text[:4000]}".upper()  # Chinese runs words together: match the code itself
    codes = sorted(session.scalars(select(Model.code)), key=len, reverse=True)
    return next((c for c in codes if re.search(rf"(?<![A-Z0-9-]){re.escape(c.upper())}(?![A-Z0-9])", text)),
                _NOT_STATED)


def _open(session: Session, runtime: Any, mail: IncomingMail, settings: IntakeSettings, row: MailIntake) -> None:
    data = {"channel": "email", "customer": _customer(session, mail),
            "product": {"model": _model(session, mail), "serial_number": mail.serial_number()},
            "fault": {"description": _said(mail), "symptoms": []}, "expectation": ""}
    result = cockpit.open_request(session, runtime, settings.process, data, Actor(INTAKE_ACTOR), None)
    number = result.get("ticket_number")
    if not number:
        raise InvalidInput("the process gave the request no ticket number", field="process")
    row.ticket_number = number
    if result.get("duplicate"):  # the process found the customer's open ticket for the same serial
        row.outcome = "appended"
        _pass_on(session, runtime, number, mail)
    else:
        row.outcome = "opened"
    refused = _keep_files(session, mail, number, row)
    _log_on_ticket(session, number, mail, row, refused)
    if refused and row.outcome == "opened":
        _name_in_acknowledgement(session, number, refused)
    elif refused:
        _tell_refused(session, number, mail, refused)


def _append(session: Session, runtime: Any, mail: IncomingMail, ticket: ticketing.Ticket, row: MailIntake) -> None:
    row.ticket_number, row.outcome = ticket.number, "appended"
    said = _said(mail) or "–"
    session.add(ticketing.Contact(ticket_id=ticket.id, channel="email", fault={"description": said, "symptoms": []},
                                  instance_id=ticket.instance_id, received_at=clock.now()))
    _pass_on(session, runtime, ticket.number, mail)
    refused = _keep_files(session, mail, ticket.number, row)
    _log_on_ticket(session, ticket.number, mail, row, refused)
    if refused:
        _tell_refused(session, ticket.number, mail, refused)


def _pass_on(session: Session, runtime: Any, ticket: str, mail: IncomingMail) -> None:
    """Tell the ticket's agents (message ``customer_contact``); a process that no longer listens keeps it on file."""
    try:
        with session.begin_nested():
            runtime.deliver_message(session, "customer_contact", ticket,
                                    {"channel": "email", "fault": {"description": _said(mail) or "–"}},
                                    sender=Sender.customer())
    except MessageNotCorrelated:
        pass


def _keep_files(session: Session, mail: IncomingMail, ticket: str, row: MailIntake) -> list[dict[str, str]]:
    kept, refused = [], []
    for file in mail.files:
        try:
            with session.begin_nested():
                added = attachments.add_attachment(session, ticket, file.filename, file.content, file.content_type,
                                                   "customer", "intake")
            kept.append({"name": added.filename, "id": added.id})
        except InvalidInput as exc:
            refused.append({"name": file.filename, "reason": str(exc.details.get("reason") or "type"),
                            "size": f"{len(file.content) / 2**20:.1f}"})
    row.details = {**(row.details or {}), "kept": kept, "refused": refused}
    return refused


def _log_on_ticket(session: Session, ticket: str, mail: IncomingMail, row: MailIntake,
                   refused: list[dict[str, str]]) -> None:
    """Put the mail on the ticket's timeline (and its audit trail), refused attachments named."""
    instance = attachments.instance_of(session, ticket)
    now = clock.now()
    activity = TicketActivity(ticket_number=ticket, instance_id=instance.id, kind="mail", author="customer",
                              created_at=now, body=_said(mail), details={
                                  "intake": row.id, "outcome": row.outcome,
                                  "files": len((row.details or {}).get("kept") or []), "refused": refused})
    session.add(activity)
    session.flush()
    write_instance_events(session, instance, [PendingEvent("ticket.mail", INTAKE_ACTOR, now, {
        "activity": activity.id, "intake": row.id, "outcome": row.outcome, "refused": [r["name"] for r in refused]})])


_REFUSED_TEXT = {
    "en": ("We could not accept these attachments:", {"too_large": "larger than {mb} MB", "empty": "empty",
                                                       "type": "not a photo, PDF or plain text"},
           "Please send them again as photos (JPEG, PNG), PDF or text, each up to {mb} MB."),
    "zh": ("以下附件未被接收：", {"too_large": "超过 {mb} MB", "empty": "文件为空", "type": "不是照片、PDF 或纯文本"},
           "请以照片（JPEG、PNG）、PDF 或文本格式重新发送，每个文件不超过 {mb} MB。"),
}


def refused_paragraph(refused: list[dict[str, str]], language: str) -> str:
    """Return the paragraph naming refused attachments, in ``language`` (en or zh)."""
    heading, reasons, advice = _REFUSED_TEXT.get(language, _REFUSED_TEXT["en"])
    mb = attachments.MAX_BYTES // 2**20
    lines = [f"- {r['name']}: {reasons.get(r['reason'], reasons['type']).format(mb=mb)}" for r in refused]
    return "\n".join([heading, *lines, advice.format(mb=mb)])


def _name_in_acknowledgement(session: Session, ticket: str, refused: list[dict[str, str]]) -> None:
    """Add the refused attachments to the acknowledgement the process just queued (not yet sent)."""
    ack = session.scalars(select(Outbox).where(Outbox.ticket_number == ticket, Outbox.milestone == "received",
                                               Outbox.status == "pending").order_by(Outbox.id.desc()).limit(1)).first()
    if ack is not None:
        ack.body = f"{ack.body}\n\n{refused_paragraph(refused, ack.language)}"
        session.flush()


def _tell_refused(session: Session, ticket: str, mail: IncomingMail, refused: list[dict[str, str]]) -> None:
    subject = {"zh": "【{t}】附件未被接收", "en": "[{t}] Attachments not accepted"}[mail.language].format(t=ticket)
    message_customer(session, ticket, INTAKE_ACTOR, {"email": mail.sender, "language": mail.language,
                                                     "preferred_channel": "email"},
                     subject, refused_paragraph(refused, mail.language), channel="email")


def customer_mail_ids(session: Session, ticket: str, address: str, until: datetime) -> list[str]:
    """Return the Message-IDs of the mails from ``address`` taken in on ``ticket`` up to ``until``, oldest
    first (the last ten): the thread our e-mail to that customer about the ticket answers.

    A mail that came without a Message-ID is logged under a digest of its bytes, which no mail
    client knows: it is left out.
    """
    wanted = parseaddr(address)[1].lower()
    found = session.scalars(select(MailIntake.message_id).where(
        MailIntake.ticket_number == ticket, MailIntake.outcome.in_(("opened", "appended")),
        MailIntake.received_at <= until, MailIntake.message_id.is_not(None),
        func.lower(MailIntake.sender) == wanted).order_by(MailIntake.id.desc()).limit(10))
    return [m for m in reversed(found.all()) if _MESSAGE_ID.fullmatch(m) and not _DIGEST.fullmatch(m)]


def intake_log(session: Session, outcome: str | None = None,
               limit: int = 200) -> tuple[list[MailIntake], dict[str, int]]:
    """Return the newest logged messages (optionally of one outcome) and the count of each outcome."""
    query = select(MailIntake).order_by(MailIntake.received_at.desc(), MailIntake.id.desc()).limit(limit)
    if outcome is not None:
        query = query.where(MailIntake.outcome == outcome)
    counts = {o: 0 for o in OUTCOMES}
    counts.update({str(o): int(n) for o, n in session.execute(
        select(MailIntake.outcome, func.count()).group_by(MailIntake.outcome))})
    return list(session.scalars(query)), counts


def _customer_rows(session: Session, values: list[str], tickets: list[str]) -> tuple[set[str], list[MailIntake]]:
    addresses = {v.strip().lower() for v in values if isinstance(v, str) and "@" in v}
    return addresses, list(session.scalars(select(MailIntake).where(or_(
        MailIntake.sender.in_(addresses), MailIntake.ticket_number.in_(tickets))).order_by(MailIntake.id)))


def export_log(session: Session, values: list[str], tickets: list[str]) -> list[dict[str, Any]]:
    """Return the intake log's rows of one customer (by address or ticket), for a privacy export."""
    return [{"received_at": r.received_at.isoformat(), "sender": r.sender, "subject": r.subject,
             "outcome": r.outcome, "reason": r.reason, "ticket": r.ticket_number, "details": r.details}
            for r in _customer_rows(session, values, tickets)[1]]


def erase_from_log(session: Session, values: list[str], tickets: list[str], scrub: Any) -> int:
    """Scrub one customer's addresses and words from the intake log (a privacy erasure); return the rows.

    ``values`` are the customer's personal strings, ``scrub`` the erasure's ``Scrubber`` (``text``, ``data``).
    """
    addresses, rows = _customer_rows(session, values, tickets)
    for row in rows:
        row.sender = "" if row.sender in addresses else scrub.text(row.sender)
        row.subject = scrub.text(row.subject)
        row.details = scrub.data(row.details)
    session.flush()
    return len(rows)


def maildir_path(settings: IntakeSettings) -> Path | None:
    """Return the Maildir folder to read, if one is configured."""
    return Path(settings.maildir) if settings.maildir else None


from . import mail_intake_sources  # noqa: E402,F401  (registers the Maildir worker job)
