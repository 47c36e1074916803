"""Reading one inbound e-mail (RFC 5322) for the mail intake: sender, text, attachments, noise.

:func:`read_mail` never raises: a message that cannot become a request comes back with a
``refusal`` (a reason code and an English template with its values) and is only logged.
Loops and noise are refused the way mail gateways do (Odoo, Zammad): ``Auto-Submitted``
other than ``no`` and ``Precedence: bulk/junk/auto_reply`` (RFC 3834 auto-replies),
bounces (an empty return path, ``MAILER-DAEMON``, a delivery-status report) and mail from
our own sender address. HTML-only mail becomes plain text with lxml: scripts, styles and
other non-content elements are dropped before the text is taken, so nothing executable
reaches a page.
"""

from __future__ import annotations

import email.errors
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

import lxml.html
from lxml import etree

from engine.forms import EMAIL

#: the largest message taken in (``AFTERSALES_MAIL_INTAKE_MAX_BYTES`` overrides)
MAX_BYTES = 25 * 1024 * 1024
TICKET_NUMBER = re.compile(r"\bAS-\d{8}-\d{5}\b")
#: our outbound Message-IDs (``handlers.notifications``): the reply names the outbox row
OUTBOX_ID = re.compile(r"<outbox\.(\d{1,12})@")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SERIAL = re.compile(r"(?:serial(?:\s+number)?|s/n|sn|序列号|机身编号|编号)\s*[:：#]?\s*"
                     r"([A-Za-z0-9][A-Za-z0-9-]{3,39})", re.IGNORECASE)
_BROKEN = (email.errors.NoBoundaryInMultipartDefect, email.errors.StartBoundaryNotFoundDefect,
           email.errors.CloseBoundaryNotFoundDefect, email.errors.MultipartInvariantViolationDefect,
           email.errors.MissingHeaderBodySeparatorDefect, email.errors.FirstHeaderLineIsContinuationDefect,
           email.errors.InvalidMultipartContentTransferEncodingDefect)
_DROPPED = ("script", "style", "head", "title", "noscript", "template", "iframe", "object", "embed", "svg",
            "math", "form", "button", "select", "textarea")
_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                     "table", "ul", "ol", "section", "article", "header", "footer", "hr"})
_BOUNCERS = ("mailer-daemon", "postmaster")
_TEXT_MAX = 20_000


@dataclass(frozen=True)
class Refusal:
    """Why a message is not taken in: a code, an English template and its values."""

    reason: str
    template: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Return the refusal in English."""
        return self.template.format(**self.values)


@dataclass(frozen=True)
class MailFile:
    """One attachment as the message carried it."""

    filename: str
    content: bytes
    content_type: str


@dataclass
class IncomingMail:
    """What the intake needs of one message."""

    message_id: str
    size: int
    sender: str = ""
    name: str = ""
    subject: str = ""
    text: str = ""
    references: list[str] = field(default_factory=list)
    files: list[MailFile] = field(default_factory=list)
    refusal: Refusal | None = None

    @property
    def language(self) -> str:
        """Return ``zh`` for a mail written in Chinese, else ``en``."""
        return "zh" if len(_CJK.findall(f"{self.subject}\n{self.text[:4000]}")) >= 2 else "en"

    def ticket_numbers(self) -> list[str]:
        """Return the ticket numbers the subject and the reference headers name, in that order."""
        found = TICKET_NUMBER.findall(self.subject) + [n for ref in self.references for n in TICKET_NUMBER.findall(ref)]
        return list(dict.fromkeys(found))

    def outbox_ids(self) -> list[int]:
        """Return the ids of our own notifications this message answers (In-Reply-To, References)."""
        return [int(m) for ref in self.references for m in OUTBOX_ID.findall(ref)]

    def serial_number(self) -> str:
        """Return the product serial number the text names after 'serial'/'S/N'/'序列号', if any."""
        match = _SERIAL.search(f"{self.subject}\n{self.text}")
        return match.group(1).upper() if match else ""


def message_key(raw: bytes, message_id: str | None) -> str:
    """Return the key duplicates are found by: the Message-ID, else a digest of the bytes."""
    value = " ".join(str(message_id or "").split())
    if value and len(value) <= 250:
        return value
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@mail-intake>"


def read_mail(raw: bytes, own_addresses: frozenset[str], max_bytes: int = MAX_BYTES,
              envelope_sender: str | None = None) -> IncomingMail:
    """Read ``raw`` into an :class:`IncomingMail`, or one with the reason it is refused."""
    if len(raw) > max_bytes:
        mail = IncomingMail(message_key(raw, _header_message_id(raw)), len(raw))
        mail.refusal = Refusal("too_large", "The message is {size} MB; the limit is {limit} MB.",
                               {"size": f"{len(raw) / 2**20:.1f}", "limit": f"{max_bytes / 2**20:g}"})
        return mail
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        mail = IncomingMail(message_key(raw, _header(msg, "Message-ID")), len(raw))
        mail.subject = " ".join(_header(msg, "Subject").split())[:300]
        claimed = parseaddr(_header(msg, "From"))[1].strip().lower()
        mail.sender = claimed[:200] if "@" in claimed else ""  # logged even when the message is refused
    except (email.errors.MessageError, ValueError, TypeError, LookupError, AssertionError) as exc:
        mail = IncomingMail(message_key(raw, None), len(raw))
        mail.refusal = Refusal("malformed", "The message cannot be read: {detail}", {"detail": str(exc)[:200]})
        return mail
    mail.refusal = _noise(msg, own_addresses, envelope_sender) or _read_sender(msg, mail) or _read_body(msg, mail)
    return mail


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return str(msg.get(name, "") or "")
    except (email.errors.HeaderParseError, ValueError, TypeError, IndexError):
        return ""


def _header_message_id(raw: bytes) -> str | None:
    match = re.search(rb"^Message-ID:[ \t]*(<[^>\r\n]{1,240}>)", raw[:65536], re.IGNORECASE | re.MULTILINE)
    return match.group(1).decode("ascii", "replace") if match else None


def _noise(msg: EmailMessage, own: frozenset[str], envelope_sender: str | None) -> Refusal | None:
    submitted = _header(msg, "Auto-Submitted").strip().lower()
    if submitted and submitted != "no":
        return Refusal("auto_submitted", "An automatic message (Auto-Submitted: {value}).",
                       {"value": submitted[:40]})
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "auto_reply", "list") or _header(msg, "X-Autoreply") \
            or _header(msg, "X-Autorespond"):
        return Refusal("auto_submitted", "An automatic message (Auto-Submitted: {value}).",
                       {"value": precedence or "auto-reply"})
    return_path = _header(msg, "Return-Path").strip()
    sender = parseaddr(_header(msg, "From"))[1].strip().lower()
    report = msg.get_content_type() == "multipart/report"
    empty_path = (envelope_sender is not None and envelope_sender.strip("<> ") == "") or return_path == "<>"
    if empty_path or sender.partition("@")[0] in _BOUNCERS or report:
        return Refusal("bounce", "A bounce or delivery report (from {sender}).",
                       {"sender": sender or "<>"})
    if sender and sender in own:
        return Refusal("own_address", "Sent from our own address {sender} (a mail loop).", {"sender": sender})
    return None


def _read_sender(msg: EmailMessage, mail: IncomingMail) -> Refusal | None:
    raw_from = _header(msg, "From")
    pairs = [(n, a) for n, a in getaddresses([raw_from]) if a]
    if not pairs:
        return Refusal("no_sender", "The message has no From address.")
    name, address = pairs[0]
    address = address.strip().lower()
    if len(pairs) > 1 or len(address) > 200 or not EMAIL.fullmatch(address) or "." not in address.partition("@")[2]:
        return Refusal("no_sender", "The From address {value!r} is not one e-mail address.",
                       {"value": raw_from[:120]})
    mail.sender = address
    mail.name = " ".join(name.split())[:120] or address.partition("@")[0][:120]
    mail.references = [_header(msg, "In-Reply-To"), _header(msg, "References")]
    return None


def _read_body(msg: EmailMessage, mail: IncomingMail) -> Refusal | None:
    broken = [d for part in msg.walk() for d in getattr(part, "defects", []) if isinstance(d, _BROKEN)]
    if broken:
        return Refusal("malformed", "The message's MIME structure is broken: {detail}",
                       {"detail": type(broken[0]).__name__})
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",)) if plain is None else None
        if plain is not None:
            text = str(plain.get_content())
        elif html is not None:
            text = html_to_text(str(html.get_content()))
        else:
            text = ""
        body_parts = {id(p) for p in (plain, html) if p is not None}
        for part in msg.walk():
            if part.is_multipart() or id(part) in body_parts:
                continue
            name = part.get_filename()
            if name is None and part.get_content_disposition() != "attachment" \
                    and part.get_content_maintype() == "text":
                continue  # an alternative body we did not pick
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            mail.files.append(MailFile(" ".join(str(name or "attachment").split())[:160], content,
                                       part.get_content_type()))
    except (LookupError, ValueError, TypeError, UnicodeError, AttributeError, KeyError) as exc:
        return Refusal("malformed", "The message's MIME structure is broken: {detail}",
                       {"detail": f"{type(exc).__name__}: {str(exc)[:160]}"})
    mail.text = _tidy(text)[:_TEXT_MAX]
    return None


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", out)


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML mail: scripts, styles and forms dropped, blocks on their lines."""
    if not html.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter(*_DROPPED)):
        element.drop_tree()
    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
            if element.tag.lower() == "li":
                element.text = "• " + (element.text or "")
    return _tidy(str(root.text_content()))
