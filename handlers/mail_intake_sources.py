"""Where inbound e-mail comes from: an SMTP listener on loopback and a Maildir folder.

- :class:`IntakeListener` is an aiosmtpd server (``aftersales mail-intake``, and the demo on
  loopback): the site's MTA, or anyone on this host, hands it mail over SMTP. Each message
  is taken in before the answer: 250 when it was logged (opened, appended or refused as
  noise), 552 when it is larger than the limit (logged too), 451 when the database failed
  (the sending MTA tries again; a Message-ID already taken in is never taken in twice).
- :func:`read_maildir` is the worker job ``mail.maildir``: for a site whose MTA delivers to
  a Maildir (``AFTERSALES_MAIL_INTAKE_MAILDIR``), it takes in each message of ``new/`` and
  moves it to ``cur/`` flagged seen, as a mail reader does.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
from datetime import datetime
from typing import Any

from engine.db import Database

from .mail_intake import IntakeSettings, maildir_path, take_in
from .transports import start_smtp_server

log = logging.getLogger("aftersales.mail_intake")
#: messages taken from the Maildir per worker pass
BATCH = 50


class IntakeListener:
    """An SMTP server on ``settings.host``:``settings.port`` whose every message goes to :func:`take_in`."""

    def __init__(self, db: Database, runtime: Any, settings: IntakeSettings) -> None:
        from aiosmtpd.controller import Controller

        self.db, self.runtime, self.settings = db, runtime, settings
        # twice the limit reaches us, so that an oversized message is logged before it is refused
        self.controller = Controller(self, hostname=settings.host, port=settings.port,
                                     data_size_limit=2 * settings.max_bytes)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        """Take the message in; answer how it went."""
        raw = envelope.original_content or envelope.content
        raw = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
        sender = envelope.mail_from if isinstance(envelope.mail_from, str) else None
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                None, lambda: take_in(self.db, self.runtime, raw, "smtp", self.settings, sender))
        except Exception:
            log.exception("mail intake failed; the sender will try again")
            return "451 4.3.0 Temporary failure, please try again later"
        if result.reason == "too_large":
            return "552 5.3.4 Message too big"
        return f"250 2.0.0 {result.outcome} {result.ticket_number or ''}".rstrip()

    def start(self) -> IntakeListener:
        """Start listening (in aiosmtpd's own thread)."""
        start_smtp_server(self.controller)
        return self

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()


def read_maildir(db: Database, runtime: Any, now: datetime, settings: IntakeSettings | None = None) -> int:
    """Take in the new messages of the configured Maildir; return how many were taken."""
    settings = settings or IntakeSettings.from_env()
    with db.transaction(write=False) as session:
        settings = settings.stored(session)
    folder = maildir_path(settings)
    if folder is None:
        return 0
    if not (folder / "new").is_dir():
        log.warning("mail intake: %s is not a Maildir (no new/ folder)", folder)
        return 0
    box = mailbox.Maildir(str(folder), create=False)
    names = sorted(p.name for p in (folder / "new").iterdir() if not p.name.startswith("."))[:BATCH]
    taken = 0
    for key in (name.split(":", 1)[0] for name in names):
        try:
            raw = box.get_bytes(key)
            take_in(db, runtime, raw, "maildir", settings)
        except KeyError:
            continue  # another reader took it meanwhile
        except Exception:
            log.exception("mail intake of %s failed; it stays in new/ for the next pass", key)
            continue
        message = box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        box[key] = message
        taken += 1
    return taken


def register() -> None:
    """Register the Maildir job with the worker."""
    from engine.worker import register_job

    register_job("mail.maildir", read_maildir)


register()
