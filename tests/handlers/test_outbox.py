"""The outbox dispatcher: delivery after commit over real SMTP, retries, leases, never twice."""

from __future__ import annotations

import email
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from handlers.outbox import Outbox, claim, deliver_outbox, mark, outbox_job
from handlers.transports import (
    Delivery,
    DeliveryRefused,
    OutboundMessage,
    RecordingTransport,
    SmtpSettings,
    SmtpTransport,
)
from tests.handlers.samples import CUSTOMER
from tests.handlers.threads import run_in_threads
from tests.support.net import free_port

EMAIL_CUSTOMER = {**CUSTOMER, "language": "en", "preferred_channel": "email"}


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses addresses at refuse.example."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@refuse.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server on loopback; AFTERSALES_SMTP_* point at it."""
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AFTERSALES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AFTERSALES_SMTP_PORT", str(port))
    monkeypatch.setenv("AFTERSALES_SMTP_FROM", "Service <service@aftersales.example>")
    yield box
    controller.stop()


class FlakySms:
    """An SMS operator that is down for the first ``failures`` attempts (recording afterwards)."""

    def __init__(self, database, failures: int) -> None:
        self.recorder, self.failures, self.calls = RecordingTransport(database), failures, 0

    def send(self, message, now) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("SMS gateway timed out")
        self.recorder.send(message, now)


def notify(call, n: int = 1, customer=CUSTOMER, prefix: str = "n") -> list[int]:
    return [call("notify.send", task=f"{prefix}{i}", ticket_number=f"AS-20260302-{i:05d}", milestone="received",
                 customer=customer, data={})["outbox_id"] for i in range(1, n + 1)]


def rows(database) -> list[Outbox]:
    with database.transaction(write=False) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def deliveries(database) -> dict[int, int]:
    with database.transaction(write=False) as session:
        return dict(session.execute(select(Delivery.outbox_id, func.count()).group_by(Delivery.outbox_id)).all())


def test_email_is_delivered_over_smtp_after_commit_with_a_stable_message_id(call, database, clock, mailbox):
    # Given an e-mail notification committed to the outbox
    [outbox_id] = notify(call, customer=EMAIL_CUSTOMER)
    assert mailbox.messages == []  # nothing leaves before the dispatcher runs
    # When the dispatcher runs (twice)
    report = deliver_outbox(database, {"email": SmtpTransport()}, clock.now())
    again = deliver_outbox(database, {"email": SmtpTransport()}, clock.now())
    # Then the real SMTP server got it once, with headers derived from the outbox row
    assert (report.delivered, again.delivered) == ([outbox_id], [])
    [mail] = mailbox.messages
    assert mail["Message-ID"] == f"<outbox.{outbox_id}@aftersales.example>"
    assert (mail["To"], mail["X-Aftersales-Outbox"]) == ("li.wei@example.cn", str(outbox_id))
    assert mail["Subject"] == "[AS-20260302-00001] We have received your service request"
    assert "Thank you for contacting us" in mail.get_payload(decode=True).decode()
    [row] = rows(database)
    assert (row.status, row.attempts, row.delivered_at, row.lease_until) == ("delivered", 1, clock.now(), None)


def test_chinese_e_mail_survives_the_trip(call, database, clock, mailbox):
    notify(call, customer={**CUSTOMER, "preferred_channel": "email"})
    deliver_outbox(database, {"email": SmtpTransport()}, clock.now())
    [mail] = mailbox.messages
    assert str(email.header.make_header(email.header.decode_header(mail["Subject"]))).endswith("我们已收到您的服务申请")
    assert "尊敬的Li Wei" in mail.get_payload(decode=True).decode("utf-8")


def test_a_refused_recipient_fails_for_good(call, database, clock, mailbox):
    notify(call, customer={**EMAIL_CUSTOMER, "email": "nobody@refuse.example"})
    report = deliver_outbox(database, {"email": SmtpTransport()}, clock.now())
    [row] = rows(database)
    assert report.failed == [row.id] and row.status == "failed"
    assert "550" in row.last_error and mailbox.messages == []


def test_an_unreachable_smtp_server_is_retried_with_backoff(call, database, clock):
    notify(call, customer=EMAIL_CUSTOMER)
    down = SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))
    report = deliver_outbox(database, {"email": down}, clock.now())
    [row] = rows(database)
    assert report.retrying == [row.id]
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, clock.now() + timedelta(minutes=1))
    assert "ConnectionRefusedError" in row.last_error


def test_a_failing_operator_is_retried_later_and_delivered_once(call, database, clock):
    # Given an SMS gateway that is down for two attempts
    [outbox_id] = notify(call)
    sms = FlakySms(database, failures=2)
    # When the dispatcher runs now, too early, and after each backoff
    assert deliver_outbox(database, {"sms": sms}, clock.now()).retrying == [outbox_id]
    assert deliver_outbox(database, {"sms": sms}, clock.now() + timedelta(seconds=59)).to_dict() == {
        "delivered": [], "retrying": [], "failed": []}
    assert deliver_outbox(database, {"sms": sms}, clock.now() + timedelta(minutes=1)).retrying == [outbox_id]
    assert deliver_outbox(database, {"sms": sms}, clock.now() + timedelta(minutes=3)).delivered == [outbox_id]
    # Then it went out exactly once, on the third attempt
    assert deliveries(database) == {outbox_id: 1}
    assert [(r.status, r.attempts) for r in rows(database)] == [("delivered", 3)]


def test_attempts_run_out_and_the_row_fails(call, database, clock, monkeypatch):
    monkeypatch.setattr("handlers.outbox.MAX_ATTEMPTS", 2)
    notify(call)
    sms = FlakySms(database, failures=5)
    deliver_outbox(database, {"sms": sms}, clock.now())
    report = deliver_outbox(database, {"sms": sms}, clock.now() + timedelta(hours=1))
    assert report.failed == [1] and rows(database)[0].status == "failed"


def test_a_channel_without_transport_fails_with_a_reason(call, database, clock):
    notify(call)
    assert deliver_outbox(database, {}, clock.now()).failed == [1]
    assert rows(database)[0].last_error == "no transport for channel 'sms'"


def test_a_crashed_worker_s_claim_expires_and_the_resend_is_recognised(call, database, clock):
    # Given a worker that claimed a row, handed it to the operator, and died before marking it
    [outbox_id] = notify(call)
    [message] = claim(database, clock.now(), limit=10)
    RecordingTransport(database).send(message, clock.now())
    # When another worker runs while the lease holds, nothing happens
    assert deliver_outbox(database, {"sms": RecordingTransport(database)}, clock.now()).delivered == []
    # Then after the lease the row is sent again with the same Message-ID, and recorded only once
    later = clock.now() + timedelta(minutes=6)
    assert deliver_outbox(database, {"sms": RecordingTransport(database)}, later).delivered == [outbox_id]
    assert deliveries(database) == {outbox_id: 1}
    assert rows(database)[0].attempts == 2


def test_a_late_worker_cannot_mark_a_row_that_was_claimed_again(call, database, clock):
    notify(call)
    [stale] = claim(database, clock.now(), limit=1)
    [fresh] = claim(database, clock.now() + timedelta(minutes=6), limit=1)
    assert (stale.message_id, stale.outbox_id) == (fresh.message_id, fresh.outbox_id)
    assert stale.delivery_id != fresh.delivery_id
    assert mark(database, stale, {"status": "delivered"}) is False
    assert mark(database, fresh, {"status": "delivered"}) is True


def test_concurrent_dispatchers_deliver_each_notification_exactly_once(call, database, clock):
    # Given twenty SMS notifications and four dispatchers running at once
    ids = notify(call, n=20)
    delivered: list[int] = []

    def dispatch(_: int) -> None:
        for _round in range(3):
            delivered.extend(deliver_outbox(database, {"sms": RecordingTransport(database)}, clock.now(), 3).delivered)

    assert run_in_threads(dispatch, 4) == []
    deliver_outbox(database, {"sms": RecordingTransport(database)}, clock.now(), 50)
    # Then every row was delivered by exactly one of them, and recorded once
    assert sorted(delivered) == sorted(set(delivered))
    assert deliveries(database) == dict.fromkeys(ids, 1)
    assert {r.status for r in rows(database)} == {"delivered"}


def test_the_worker_job_delivers_with_the_default_transports(call, database, clock, mailbox):
    notify(call, n=2, customer=EMAIL_CUSTOMER, prefix="mail")
    [sms] = notify(call, n=1, prefix="sms")
    assert outbox_job(database, clock.now()) == 3
    assert len(mailbox.messages) == 2
    assert deliveries(database) == {sms: 1}


def test_permanent_smtp_refusals_raise_delivery_refused(mailbox, clock):
    message = OutboundMessage(9, "claim", "<outbox.9@x>", "email", "a@refuse.example", "Subject", "Body", 1)
    with pytest.raises(DeliveryRefused, match="recipient refused"):
        SmtpTransport().send(message, clock.now())


def test_a_pass_with_nothing_due_takes_no_write_lock(call, database, clock, mailbox):
    if not database.url.startswith("sqlite"):
        pytest.skip("PostgreSQL's writers lock rows, not the database")
    # Given one notification delivered, and one retrying an hour from now
    notify(call, n=1, customer=EMAIL_CUSTOMER, prefix="mail")
    assert outbox_job(database, clock.now()) == 1
    [later] = notify(call, n=1, prefix="sms")
    with database.transaction() as session:
        session.get(Outbox, later).next_attempt_at = clock.now() + timedelta(hours=1)
    # When another process holds SQLite's write lock, the worker's outbox pass still answers at once
    writer = sqlite3.connect(database.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        assert outbox_job(database, clock.now()) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    # And the retry goes out when it is due
    assert outbox_job(database, clock.now() + timedelta(hours=1)) == 1
    assert deliveries(database) == {later: 1}
