"""The mail intake: real SMTP to the aiosmtpd listener on loopback, a Maildir in tmp_path, the real
processes on both databases. A mail opens a numbered, acknowledged request or joins the open ticket
it answers; noise, loops, duplicates and broken mail are logged as refused and change nothing else."""

from __future__ import annotations

import mailbox
import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import WorkItem
from handlers import attachments, ticketing
from handlers.mail_intake import IntakeSettings, MailIntake, take_in
from handlers.mail_intake_parse import html_to_text
from handlers.mail_intake_sources import IntakeListener, read_maildir
from handlers.outbox import Outbox
from handlers.sla import SlaClock
from handlers.ticket_notes import TicketActivity
from tests.handlers import test_customer_language_mail


@pytest.fixture
def desk(database, runtime, clock, mail_desk_state):
    """The real processes and catalogue, with an agent to cancel a request (a copy of the
    ``mail_desk_state`` database, tests/handlers/conftest.py)."""
    from tests.process.driver import Desk

    return Desk(database, runtime, clock, mail_desk_state)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256
OURS = "service@aftersales.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> IntakeSettings:
    monkeypatch.setenv("AFTERSALES_SMTP_FROM", f"Service <{OURS}>")
    return IntakeSettings(host="127.0.0.1", port=free_port(), max_bytes=20 * 2**20)


@pytest.fixture
def listener(desk: Any, settings: IntakeSettings) -> Iterator[IntakeListener]:
    """``aftersales mail-intake``'s SMTP listener on an ephemeral loopback port."""
    server = IntakeListener(desk.database, desk.runtime, settings).start()
    yield server
    server.stop()


def mail(sender: str = "Wang Fang <wang.fang@example.cn>", subject: str = "Washer WM-F80 will not drain",
         body: str = "My washer WM-F80 stops with water inside. Serial: WMF80-000123", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, OURS, subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def send(settings: IntakeSettings, msg: EmailMessage, mail_from: str | None = None) -> tuple[int, bytes]:
    """Send over SMTP to the listener; return its answer to DATA."""
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail(mail_from if mail_from is not None else "sender@example.cn")
        smtp.rcpt(OURS)
        return smtp.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))


def log_rows(desk: Any) -> list[MailIntake]:
    with desk.database.transaction(write=False) as s:
        rows = list(s.scalars(select(MailIntake).order_by(MailIntake.id)))
        s.expunge_all()
    return rows


def tickets(desk: Any) -> int:
    with desk.database.transaction(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(ticketing.Ticket)) or 0)


def outbox(desk: Any, ticket: str) -> list[Outbox]:
    with desk.database.transaction(write=False) as s:
        rows = list(s.scalars(select(Outbox).where(Outbox.ticket_number == ticket).order_by(Outbox.id)))
        s.expunge_all()
    return rows


def test_a_mail_opens_a_numbered_request_acknowledged_by_mail_with_the_clock_running(desk, listener, settings):
    # When a customer writes to the service address
    code, answer = send(settings, mail())
    # Then the request has its ticket number at arrival
    (row,) = log_rows(desk)
    assert code == 250 and row.outcome == "opened" and row.ticket_number in answer.decode()
    with desk.database.transaction(write=False) as s:
        ticket = ticketing.get_ticket(s, row.ticket_number)
        assert ticket.channel == "email" and ticket.customer.email == "wang.fang@example.cn"
        assert ticket.customer.name == "Wang Fang" and ticket.customer.language == "en"
        assert (ticket.product.model, ticket.product.serial_number) == ("WM-F80", "WMF80-000123")
        assert "stops with water inside" in ticket.fault["description"]
        # and the first-response clock runs from arrival
        clock_row = s.scalars(select(SlaClock).where(SlaClock.business_key == row.ticket_number,
                                                     SlaClock.kind == "response")).one()
        assert clock_row.started_at == ticket.opened_at == row.received_at
        # and an agent triages it
        assert s.scalars(select(WorkItem.element_id).where(WorkItem.instance_id == ticket.instance_id)).all() \
            == ["register_request"]
    # and the acknowledgement goes back by e-mail with the number in its subject
    (ack,) = outbox(desk, row.ticket_number)
    assert (ack.milestone, ack.channel, ack.recipient, ack.language) == ("received", "email",
                                                                          "wang.fang@example.cn", "en")
    assert row.ticket_number in ack.subject


def test_a_chinese_mail_makes_a_chinese_customer_and_a_chinese_acknowledgement(desk, listener, settings):
    send(settings, mail("王芳 <wang.fang@example.cn>", "洗衣机不排水", "洗衣机WM-F80不排水，显示错误代码。"))
    (row,) = log_rows(desk)
    with desk.database.transaction(write=False) as s:
        ticket = ticketing.get_ticket(s, row.ticket_number)
        assert (ticket.customer.name, ticket.customer.language, ticket.product.model) == ("王芳", "zh", "WM-F80")
    (ack,) = outbox(desk, row.ticket_number)
    assert ack.language == "zh" and ack.subject.startswith(f"【{row.ticket_number}】") and "工单号" in ack.body


def test_a_reply_joins_the_open_ticket_as_a_repeat_contact_for_its_agents(desk, listener, settings):
    # Given an open ticket opened by mail
    send(settings, mail())
    number = log_rows(desk)[0].ticket_number
    ack = outbox(desk, number)[0]
    # When the customer answers the acknowledgement (In-Reply-To our Message-ID, no number in the subject)
    code, answer = send(settings, mail(subject="Re: your request", body="It also smells burnt now.",
                                       In_Reply_To=ack.message_id))
    # and once more with the number in the subject
    send(settings, mail(subject=f"Re: [{number}] still broken", body="Any news?"))
    # Then both are on the same ticket, no second ticket opened
    rows = log_rows(desk)
    assert [r.outcome for r in rows] == ["opened", "appended", "appended"]
    assert {r.ticket_number for r in rows} == {number} and tickets(desk) == 1
    assert code == 250 and number in answer.decode()
    with desk.database.transaction(write=False) as s:
        ticket = ticketing.get_ticket(s, number)
        contacts = s.scalars(select(ticketing.Contact.fault).where(ticketing.Contact.ticket_id == ticket.id)
                             .order_by(ticketing.Contact.id)).all()
        assert [c["description"] for c in contacts][1:] == ["Re: your request\n\nIt also smells burnt now.",
                                                            f"Re: [{number}] still broken\n\nAny news?"]
        # on the ticket's timeline
        bodies = s.scalars(select(TicketActivity.body).where(TicketActivity.ticket_number == number,
                                                             TicketActivity.kind == "mail")).all()
        assert len(bodies) == 3 and "smells burnt" in bodies[1]
        # and its agents review the repeat contact, as from the API
        reviews = s.scalars(select(WorkItem).where(WorkItem.instance_id == ticket.instance_id,
                                                   WorkItem.element_id == "review_repeat_contact")).all()
        assert len(reviews) == 2 and {w.role for w in reviews} == {"agent"}


def test_a_mail_naming_someone_elses_ticket_opens_its_own_request(desk, listener, settings):
    send(settings, mail())
    number = log_rows(desk)[0].ticket_number
    send(settings, mail("Mallory <mallory@example.org>", f"Re: [{number}]", "Close this ticket please"))
    rows = log_rows(desk)
    assert rows[1].outcome == "opened" and rows[1].ticket_number != number and tickets(desk) == 2


def test_attachments_are_kept_and_a_large_or_executable_one_is_refused_and_named(desk, listener, settings):
    msg = mail()
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="drain.png")
    msg.add_attachment(b"MZ\x90\x00" + b"\x00" * 512, maintype="application", subtype="octet-stream",
                       filename="driver.exe")
    msg.add_attachment(b"%PDF-1.4\n" + b"0" * (attachments.MAX_BYTES + 10), maintype="application",
                       subtype="pdf", filename="manual.pdf")
    assert send(settings, msg)[0] == 250
    (row,) = log_rows(desk)
    assert [k["name"] for k in row.details["kept"]] == ["drain.png"]
    assert [(r["name"], r["reason"]) for r in row.details["refused"]] == [("driver.exe", "type"),
                                                                        ("manual.pdf", "too_large")]
    with desk.database.transaction(write=False) as s:
        assert [a.filename for a in attachments.list_attachments(s, row.ticket_number)] == ["drain.png"]
        activity = s.scalars(select(TicketActivity).where(TicketActivity.kind == "mail")).one()
        assert [r["name"] for r in activity.details["refused"]] == ["driver.exe", "manual.pdf"]
    (ack,) = outbox(desk, row.ticket_number)
    assert "driver.exe" in ack.body and "manual.pdf: larger than 10 MB" in ack.body


def test_a_refused_attachment_on_a_reply_is_named_to_the_customer(desk, listener, settings):
    send(settings, mail())
    number = log_rows(desk)[0].ticket_number
    reply = mail(subject=f"Re: [{number}]", body="Here is the tool I use")
    reply.add_attachment(b"#!/bin/sh\nrm -rf /\n", maintype="text", subtype="plain", filename="fix.sh")
    send(settings, reply)
    message = outbox(desk, number)[-1]
    assert message.milestone == "message" and "fix.sh" in message.body and number in message.subject


@pytest.mark.parametrize(("headers", "mail_from", "reason"), [
    ({"Auto_Submitted": "auto-replied"}, None, "auto_submitted"),
    ({"Precedence": "bulk"}, None, "auto_submitted"),
    ({}, "", "bounce"),
    ({"Return_Path": "<>"}, None, "bounce"),
], ids=["auto-submitted", "precedence-bulk", "empty-envelope-sender", "empty-return-path"])
def test_auto_replies_and_bounces_are_logged_and_change_nothing(desk, listener, settings, headers, mail_from, reason):
    code, _ = send(settings, mail(**headers), mail_from)
    assert code == 250
    assert [(r.outcome, r.reason, r.ticket_number) for r in log_rows(desk)] == [("refused", reason, None)]
    assert tickets(desk) == 0


@pytest.mark.parametrize(("sender", "reason"), [
    ("Mail Delivery System <MAILER-DAEMON@mx.example.cn>", "bounce"),
    (f"Service <{OURS}>", "own_address"),
], ids=["mailer-daemon", "own-address"])
def test_mail_from_a_daemon_or_from_ourselves_is_a_loop_refused(desk, listener, settings, sender, reason):
    send(settings, mail(sender))
    assert [(r.outcome, r.reason) for r in log_rows(desk)] == [("refused", reason)] and tickets(desk) == 0


def test_a_duplicate_message_id_is_taken_in_once(desk, listener, settings):
    msg = mail(Message_ID="<same-1@example.cn>")
    send(settings, msg)
    send(settings, msg)
    rows = log_rows(desk)
    assert [(r.outcome, r.reason) for r in rows] == [("opened", None), ("refused", "duplicate")]
    assert rows[1].details["values"] == {"entry": rows[0].id} and tickets(desk) == 1
    assert len(outbox(desk, rows[0].ticket_number)) == 1


@pytest.mark.parametrize(("raw", "reason"), [
    (b"From: a@example.cn\r\nSubject: broken\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all\r\n",
     "malformed"),
    (b"From: a@example.cn\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\n"
     b"Content-Type: text/plain\r\n\r\nstarted but never closed\r\n", "malformed"),
    (b"Subject: who am I\r\n\r\nno sender\r\n", "no_sender"),
    (b"From: not an address\r\nSubject: x\r\n\r\nhello\r\n", "no_sender"),
], ids=["multipart-without-boundary", "unclosed-multipart", "no-from", "bad-from"])
def test_malformed_mail_is_refused_with_its_reason(desk, settings, raw, reason):
    result = take_in(desk.database, desk.runtime, raw, "direct", settings)
    assert (result.outcome, result.reason) == ("refused", reason)
    (row,) = log_rows(desk)
    assert row.details["template"] and tickets(desk) == 0


def test_an_oversized_mail_is_refused_over_smtp_and_logged(desk, settings):
    small = IntakeSettings(settings.host, settings.port, max_bytes=64 * 1024)
    server = IntakeListener(desk.database, desk.runtime, small).start()
    try:
        code, _ = send(small, mail(body="x" * 100_000))
    finally:
        server.stop()
    assert code == 552
    (row,) = log_rows(desk)
    assert (row.outcome, row.reason, row.details["values"]["limit"]) == ("refused", "too_large", "0.0625")
    assert tickets(desk) == 0


HOSTILE = """<html><head><title>t</title><style>p{color:red}</style>
<script>alert('head')</script></head><body onload="alert(1)"><p>Hello,</p>
<p>The TV-55U8 <b>flickers</b><img src=x onerror="alert(2)"></p><script>document.cookie</script>
<iframe src="https://evil.example"></iframe><ul><li>first</li><li>second</li></ul></body></html>"""


def test_a_hostile_html_only_mail_becomes_plain_text_without_scripts(desk, listener, settings):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Eve <eve@example.org>", OURS, "TV problem"
    msg.set_content(HOSTILE, subtype="html")
    send(settings, msg)
    (row,) = log_rows(desk)
    with desk.database.transaction(write=False) as s:
        said = ticketing.get_ticket(s, row.ticket_number).fault["description"]
    assert "flickers" in said and "• second" in said and "TV-55U8" in said
    for trace in ("<", "alert", "cookie", "color:red", "evil.example"):
        assert trace not in said


def test_html_to_text_keeps_blocks_on_their_own_lines():
    assert html_to_text("<p>one</p><p>two<br>three</p>") == "one\ntwo\nthree"


def test_the_maildir_job_takes_in_new_messages_once_and_marks_them_seen(desk, settings, tmp_path: Path):
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(mail().as_bytes())
    box.add(mail("王芳 <wang.fang@example.cn>", "冰箱不制冷", "冰箱 RF-BCD520 不制冷了").as_bytes())
    folder = IntakeSettings(maildir=str(tmp_path / "Maildir"))
    assert read_maildir(desk.database, desk.runtime, desk.clock.now(), folder) == 2
    assert read_maildir(desk.database, desk.runtime, desk.clock.now(), folder) == 0
    assert [r.outcome for r in log_rows(desk)] == ["opened", "opened"] and tickets(desk) == 2
    assert not list((tmp_path / "Maildir" / "new").iterdir())
    assert all("S" in m.get_flags() and m.get_subdir() == "cur" for m in box)


def test_no_maildir_configured_reads_nothing(desk):
    assert read_maildir(desk.database, desk.runtime, desk.clock.now(), IntakeSettings(maildir="")) == 0


def test_the_mail_intake_command_reads_the_configured_maildir_once(desk, cli, tmp_path: Path, monkeypatch):
    box = mailbox.Maildir(str(tmp_path / "in"), create=True)
    box.add(mail().as_bytes())
    monkeypatch.setenv("AFTERSALES_MAIL_INTAKE_MAILDIR", str(tmp_path / "in"))
    assert "1 message(s) taken" in cli("mail-intake", "--maildir-once").output
    assert [r.outcome for r in log_rows(desk)] == ["opened"]


def test_a_bad_intake_port_is_a_configuration_error_naming_the_variable(desk, cli, monkeypatch):
    monkeypatch.setenv("AFTERSALES_MAIL_INTAKE_PORT", "smtp")
    assert "AFTERSALES_MAIL_INTAKE_PORT" in cli("mail-intake", code=78).output


def test_a_privacy_export_lists_and_an_erasure_clears_the_customers_mail_in_the_intake_log(desk, listener, settings):
    from handlers.privacy_requests import erase_customer, export_customer
    from handlers.ticket_notes import cancel_ticket

    # Given Wang Fang's mail (a request, later cancelled) and an auto-reply from the same address
    send(settings, mail(subject="Wang Fang: washer WM-F80 broken"))
    send(settings, mail(subject="Wang Fang is away", Auto_Submitted="auto-replied"))
    number = log_rows(desk)[0].ticket_number
    with desk.database.transaction() as s:
        exported = export_customer(s, "wang.fang@example.cn", "sue")["mail_received"]
    assert [(m["outcome"], m["subject"]) for m in exported] == [("opened", "Wang Fang: washer WM-F80 broken"),
                                                                ("refused", "Wang Fang is away")]
    with desk.database.transaction() as s:
        cancel_ticket(s, desk.runtime, number, desk.staff["agent"], "Customer withdrew the request")
    # When the customer's data is erased
    with desk.database.transaction() as s:
        result = erase_customer(s, "wang.fang@example.cn", "Customer's request #PR-1", "sue")
    # Then no intake log row keeps the address or the name
    assert result["mail_intake"] == 2
    for row in log_rows(desk):
        assert row.sender == "" and "Wang" not in row.subject and "wang.fang" not in str(row.details)


mail_sink = test_customer_language_mail.sink  # the demo's aiosmtpd sink and an SMTP transport to it


def delivered(desk: Any, sink: tuple[Any, Any]) -> list[Any]:
    """Deliver the outbox through the sink and return what it received, oldest first."""
    from handlers.outbox import deliver_outbox

    box, transport = sink
    deliver_outbox(desk.database, {"email": transport}, desk.clock.now())
    return box.messages()


def test_our_answers_to_a_customers_mail_carry_its_message_id_so_their_client_threads_them(desk, listener, settings,
                                                                                           mail_sink):
    # Given a customer's mail with its Message-ID, acknowledged over SMTP
    send(settings, mail(Message_ID="<wf-1@mail.example.cn>"))
    number = log_rows(desk)[0].ticket_number
    (ack,) = delivered(desk, mail_sink)
    # Then the acknowledgement answers that mail
    assert ack["Subject"].startswith(f"[{number}]")
    assert (ack["In-Reply-To"], ack["References"]) == ("<wf-1@mail.example.cn>", "<wf-1@mail.example.cn>")
    # When the customer answers it with an attachment we refuse, and we tell them so
    reply = mail(subject="Re: your request", body="Here is the tool I use", Message_ID="<wf-2@mail.example.cn>",
                 In_Reply_To=ack["Message-ID"])
    reply.add_attachment(b"#!/bin/sh\nrm -rf /\n", maintype="text", subtype="plain", filename="fix.sh")
    send(settings, reply)
    (_, refusal) = delivered(desk, mail_sink)
    # Then that message answers their latest mail and names the whole thread, oldest first
    assert "fix.sh" in refusal.get_content()
    assert refusal["In-Reply-To"] == "<wf-2@mail.example.cn>"
    assert refusal["References"].split() == ["<wf-1@mail.example.cn>", "<wf-2@mail.example.cn>"]


def test_a_request_not_opened_by_mail_is_acknowledged_without_a_reply_header(desk, mail_sink):
    # Given a request registered at the desk for a customer reached by e-mail
    case = desk.open_case().register()
    # When its acknowledgement goes out
    mails = [m for m in delivered(desk, mail_sink) if case.ticket_number in m["Subject"]]
    # Then it answers no mail of theirs
    assert mails and all(m["In-Reply-To"] is None and m["References"] is None for m in mails)


def test_messages_to_customers_and_notifications_take_the_message_id_domain_from_the_admins_sender(desk, listener,
                                                                                                  settings):
    from engine.settings import MAIL_SENDER, set_setting
    from handlers.ticket_notes import message_customer

    # Given an admin who set the sender address (the environment still names the old one)
    with desk.database.transaction() as s:
        set_setting(s, MAIL_SENDER, "Care <care@brand.example>", "admin")
    # When a mail opens a request (acknowledged by the process) and an agent writes to the customer
    send(settings, mail())
    number = log_rows(desk)[0].ticket_number
    with desk.database.transaction() as s:
        message_customer(s, number, "ann", {"email": "wang.fang@example.cn", "language": "en"}, "About your washer",
                         "We will call you today.", channel="email")
    # Then both Message-IDs are at the domain mail goes out from
    ack, message = outbox(desk, number)
    assert ack.message_id.endswith("@brand.example>") and message.message_id.endswith("@brand.example>")


@pytest.mark.parametrize("message_id", [None, "wf-3 at mail.example.cn"], ids=["none", "not-a-message-id"])
def test_a_mail_without_a_usable_message_id_is_acknowledged_without_a_reply_header(desk, listener, settings, mail_sink,
                                                                                   message_id):
    # Given a customer's mail with no Message-ID, or one no mail client could thread by
    send(settings, mail(**({"Message_ID": message_id} if message_id else {})))
    # When its acknowledgement goes out
    (ack,) = delivered(desk, mail_sink)
    # Then it is sent, answering nothing (no header naming our digest or the broken value)
    assert log_rows(desk)[0].outcome == "opened"
    assert ack["In-Reply-To"] is None and ack["References"] is None
