"""Transports that carry a rendered notification to the customer: SMTP e-mail and a recorder.

E-mail goes over SMTP to ``AFTERSALES_SMTP_HOST``:``AFTERSALES_SMTP_PORT`` (default
localhost:8025) from ``AFTERSALES_SMTP_FROM``; the message carries a ``Message-ID``
derived from its outbox id, so a resend after a crashed worker is recognisable as the
same message; an answer to a customer who wrote to us carries ``In-Reply-To`` and ``References``
(their mail's Message-IDs, :func:`handlers.outbox.thread_of`), so their client threads it.
SMS and WeChat operators are outside our reach: their default transport
records what would have been sent in ``notify_delivery`` — a recording fake at the edge
of the world, exactly once per outbox row (unique ``outbox_id``).
"""

from __future__ import annotations

import mailbox
import os
import re
import smtplib
import socket
from dataclasses import dataclass, replace
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, Database
from engine.errors import ConfigError
from engine.rehearsal import RECORDS_MAIL, get_purpose
from engine.settings import MAIL_SENDER, get_setting


@dataclass(frozen=True)
class OutboundMessage:
    """One notification ready to go out, as a transport sees it."""

    outbox_id: int
    delivery_id: str
    message_id: str
    channel: str
    recipient: str
    subject: str
    body: str
    attempt: int
    #: the customer's mail this answers (its Message-ID) and the thread it belongs to, oldest first:
    #: ``In-Reply-To`` and ``References``, so their mail client shows our answer under their mail
    in_reply_to: str = ""
    references: tuple[str, ...] = ()


class DeliveryRefused(Exception):
    """Raised by a transport when the message can never be delivered (retrying cannot help)."""


class Transport(Protocol):
    """Something that delivers an :class:`OutboundMessage` or raises."""

    def send(self, message: OutboundMessage, now: datetime) -> None:
        """Deliver ``message``; raise :class:`DeliveryRefused` for a permanent failure."""
        ...


class Delivery(Base):
    """A message handed to an operator we cannot reach (SMS, WeChat), as it would have been sent."""

    __tablename__ = "notify_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(unique=True)
    message_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime]


class RecordingTransport:
    """Record deliveries in ``notify_delivery``; a repeat of the same outbox row is a no-op."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def send(self, message: OutboundMessage, now: datetime) -> None:
        """Record ``message`` once."""
        try:
            with self.db.transaction() as session:
                if session.scalar(select(Delivery.id).where(Delivery.outbox_id == message.outbox_id)):
                    return
                session.add(Delivery(outbox_id=message.outbox_id, message_id=message.message_id,
                                     channel=message.channel, recipient=message.recipient, body=message.body,
                                     delivered_at=now))
        except IntegrityError:
            return  # a concurrent attempt recorded it first: it was delivered once


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom e-mail is sent."""

    host: str = "localhost"
    port: int = 8025
    sender: str = "Aftersales Service <service@aftersales.local>"
    timeout: float = 30.0
    starttls: bool = False
    username: str = ""
    password: str = ""

    @classmethod
    def from_env(cls) -> SmtpSettings:
        """Read ``AFTERSALES_SMTP_*`` variables."""
        env = os.environ
        try:
            port = int(env.get("AFTERSALES_SMTP_PORT", "8025"))
        except ValueError as exc:
            raise ConfigError("AFTERSALES_SMTP_PORT must be a port number") from exc
        return cls(host=env.get("AFTERSALES_SMTP_HOST", "localhost"), port=port,
                   sender=env.get("AFTERSALES_SMTP_FROM", cls.sender),
                   starttls=env.get("AFTERSALES_SMTP_STARTTLS", "") in ("1", "true", "yes"),
                   username=env.get("AFTERSALES_SMTP_USER", ""), password=env.get("AFTERSALES_SMTP_PASSWORD", ""))


class SmtpTransport:
    """Send e-mail over SMTP; 5xx answers are permanent, everything else is retried."""

    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings or SmtpSettings.from_env()

    def build(self, message: OutboundMessage, now: datetime) -> EmailMessage:
        """Return the e-mail for ``message``."""
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = message.message_id
        mail["Date"] = format_datetime(now)
        mail["X-Aftersales-Outbox"] = str(message.outbox_id)
        if message.in_reply_to:
            mail["In-Reply-To"] = message.in_reply_to
            mail["References"] = " ".join(message.references or (message.in_reply_to,))
        mail.set_content(message.body)
        return mail

    def send(self, message: OutboundMessage, now: datetime) -> None:
        """Send ``message`` as one SMTP transaction."""
        settings = self.settings
        if not is_deliverable_address(message.recipient):
            raise DeliveryRefused(f"invalid e-mail address {message.recipient!r}")
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
                if settings.starttls:
                    smtp.starttls()
                if settings.username:
                    smtp.login(settings.username, settings.password)
                smtp.send_message(self.build(message, now))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise DeliveryRefused(f"recipient refused: {exc.recipients}") from exc
            raise
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, HELO …: 5xx is final
            if exc.smtp_code >= 500:
                raise DeliveryRefused(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^[^@\s<>(),;:\\\"\[\]]+@{_LABEL}(?:\.{_LABEL})*$")


def is_deliverable_address(recipient: str) -> bool:
    """Tell whether ``recipient`` is one plain e-mail address a server could deliver to."""
    name, address = parseaddr(recipient)
    return bool(address) and "\n" not in recipient and "\r" not in recipient and bool(_ADDRESS.match(address))


class MailSink:
    """A local SMTP server on loopback that keeps every message it receives in a Maildir.

    ``aftersales demo`` starts one, so that the demo's e-mail is really sent and can be read
    (``/mail`` shows the outbox; the Maildir holds what the server received).
    """

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        from aiosmtpd.controller import Controller

        self.folder = Path(folder)
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(self.folder), create=True)
        for sub in ("tmp", "new", "cur"):  # an empty folder made by hand is fine too
            (self.folder / sub).mkdir(exist_ok=True)
        self.controller = Controller(self, hostname=host, port=port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        """Keep the message; answer 250."""
        mail = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.maildir.add(mail)
        return "250 Message accepted for delivery"

    def start(self) -> MailSink:
        """Start listening (in aiosmtpd's own thread)."""
        start_smtp_server(self.controller)
        return self

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()

    def messages(self) -> list[Any]:
        """Return the messages received so far, oldest first."""
        return [message_from_bytes(m.as_bytes(), policy=policy.default) for _, m in sorted(
            self.maildir.items(), key=lambda item: item[1].get_date())]


def start_smtp_server(controller: Any) -> None:
    """Start an aiosmtpd ``controller``; when it cannot (the port is taken), close the event loop it made
    before raising, which aiosmtpd leaves open."""
    try:
        controller.start()
    except BaseException:
        controller.loop.close()
        raise


def message_domain(sender: str) -> str:
    """Return the domain for Message-IDs, from the sender address (or this host)."""
    address = sender.rpartition("<")[2].rstrip(">")
    return address.rpartition("@")[2] or socket.getfqdn()


def current_sender(session: Session) -> str:
    """Return the sender of e-mail: an admin's (``/admin/settings``), else ``AFTERSALES_SMTP_FROM``."""
    return str(get_setting(session, MAIL_SENDER, SmtpSettings.from_env().sender))


def default_transports(db: Database) -> dict[str, Transport]:
    """Return the transports for each channel: SMTP e-mail, recorded SMS and WeChat. A simulation's database
    (a what-if's) records its e-mail too: the mail server configured here is the live system's, and its
    simulated customers and staff addresses may be real people's."""
    recorder = RecordingTransport(db)
    with db.transaction(write=False) as session:
        if get_purpose(session) in RECORDS_MAIL:
            return {"email": recorder, "sms": recorder, "wechat": recorder}
        settings = replace(SmtpSettings.from_env(), sender=current_sender(session))
    return {"email": SmtpTransport(settings), "sms": recorder, "wechat": recorder}
