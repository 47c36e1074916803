"""Customer e-mails that fail for good are noticed: permanent refusals are not retried,
temporary ones are, and every final failure reaches the supervisors as an alert.

A real SMTP server on loopback answers 550 (permanent) or 451 (temporary).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from analytics.alerts import FAILED_RULE, KpiAlert, check_failed_notifications
from engine.identity import create_user
from handlers.outbox import MAX_ATTEMPTS, Outbox, deliver_outbox, sent_mail
from handlers.transports import MailSink, SmtpSettings, SmtpTransport
from tests.handlers.samples import CUSTOMER
from tests.handlers.test_outbox import free_port

EMAIL_CUSTOMER = {**CUSTOMER, "language": "en", "preferred_channel": "email"}


class Answering:
    """An aiosmtpd handler that answers every recipient with one reply (``550 …`` or ``451 …``)."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.tries = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.tries += 1
        return self.reply


@pytest.fixture
def server() -> Iterator[callable]:
    """Start SMTP servers on loopback that answer as told; yield a transport maker."""
    started = []

    def start(reply: str) -> tuple[Answering, SmtpTransport]:
        handler, port = Answering(reply), free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return handler, SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout=5))

    yield start
    for controller in started:
        controller.stop()


def notify(call, email: str, n: int = 1, prefix: str = "f") -> list[int]:
    return [call("notify.send", task=f"{prefix}{i}", ticket_number=f"AS-20260302-{i:05d}", milestone="received",
                 customer={**EMAIL_CUSTOMER, "email": email}, data={})["outbox_id"] for i in range(1, n + 1)]


def outbox(database) -> list[Outbox]:
    with database.transaction(write=False) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


@pytest.fixture
def supervisor(database) -> str:
    with database.transaction() as session:
        create_user(session, "sue", "correct-horse-1", ["supervisor"], "Sue", "sue@aftersales.example")
    return "sue@aftersales.example"


def test_a_550_is_final_at_once_and_not_retried(call, database, clock, server):
    # Given a server that refuses the customer's mailbox for good
    smtp, transport = server("550 5.1.1 no such mailbox")
    [row_id] = notify(call, "gone@example.com")
    # When the worker delivers, and passes again later
    report = deliver_outbox(database, {"email": transport}, clock.now())
    clock.advance(timedelta(hours=2))
    again = deliver_outbox(database, {"email": transport}, clock.now())
    # Then it failed on the first attempt and was never tried again
    [row] = outbox(database)
    assert report.failed == [row_id] and again.failed == again.retrying == []
    assert (row.status, row.attempts, smtp.tries) == ("failed", 1, 1)
    assert "550" in row.last_error and row.failed_at is not None


def test_a_451_is_retried_with_backoff_until_the_attempts_run_out(call, database, clock, server):
    # Given a server that is busy (temporary refusal) every time
    smtp, transport = server("451 4.3.0 try again later")
    [row_id] = notify(call, "busy@example.com")
    # When the worker delivers as each retry falls due
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_outbox(database, {"email": transport}, clock.now())
        [row] = outbox(database)
        if attempt < MAX_ATTEMPTS:
            # Then each temporary refusal is tried again later
            assert report.retrying == [row_id] and row.status == "pending" and row.failed_at is None
            clock.set(row.next_attempt_at)
    # And the last one fails for good
    assert report.failed == [row_id] and (row.status, row.attempts, smtp.tries) == ("failed", MAX_ATTEMPTS,
                                                                                    MAX_ATTEMPTS)
    assert "451" in row.last_error


def test_an_impossible_address_fails_without_asking_the_server(call, database, clock, server):
    smtp, transport = server("250 OK")
    [row_id] = notify(call, "li.na at example")
    report = deliver_outbox(database, {"email": transport}, clock.now())
    [row] = outbox(database)
    assert report.failed == [row_id] and smtp.tries == 0
    assert row.last_error == "invalid e-mail address 'li.na at example'"


def test_final_failures_raise_one_alert_a_day_for_the_supervisors_and_count(call, database, clock, server,
                                                                            supervisor):
    # Given two customer e-mails refused for good
    _, transport = server("550 5.1.1 no such mailbox")
    notify(call, "gone@example.com", n=2)
    deliver_outbox(database, {"email": transport}, clock.now())
    # When the failures job runs
    assert check_failed_notifications(database, clock.now()) == 2
    # Then one alert counts both, and the supervisor is e-mailed about it through the outbox
    with database.transaction(write=False) as session:
        [alert] = session.scalars(select(KpiAlert).where(KpiAlert.rule == FAILED_RULE))
        mails = list(session.scalars(select(Outbox).where(Outbox.audience == "staff")))
    assert (alert.basis, alert.notified, alert.cleared_at) == (2, 1, None)
    assert alert.title == "2 customer notifications failed for good"
    assert [m.recipient for m in mails] == [supervisor] and "gone@example.com" in mails[0].body
    # And nothing is reported twice
    assert check_failed_notifications(database, clock.now()) == 0
    # When another fails the same day, and the supervisors' own e-mail fails too
    notify(call, "other@refuse.example", prefix="g")
    deliver_outbox(database, {"email": transport}, clock.now())
    assert check_failed_notifications(database, clock.now()) == 1
    # Then the day's alert counts three, without a second e-mail; staff mail is not a customer failure
    with database.transaction(write=False) as session:
        alert = session.get(KpiAlert, alert.id)
        staff = list(session.scalars(select(Outbox).where(Outbox.audience == "staff")))
    assert alert.basis == 3 and len(staff) == 1 and staff[0].status == "failed"
    # When the next day comes, yesterday's alert clears
    clock.advance(timedelta(days=1))
    check_failed_notifications(database, clock.now())
    with database.transaction(write=False) as session:
        assert session.get(KpiAlert, alert.id).cleared_at is not None


def test_the_mail_sink_receives_what_the_outbox_sends(call, database, clock, tmp_path):
    # Given the demo's mail sink on loopback
    port = free_port()
    sink = MailSink(tmp_path / "mail", port=port).start()
    try:
        notify(call, "li.na@example.com")
        # When the worker delivers to it
        report = deliver_outbox(database, {"email": SmtpTransport(SmtpSettings(host="127.0.0.1", port=port))},
                                clock.now())
        # Then the mail is really there, and the outbox reads delivered
        [received] = sink.messages()
    finally:
        sink.stop()
    assert len(report.delivered) == 1 and received["To"] == "li.na@example.com"
    with database.transaction(write=False) as session:
        rows, counts = sent_mail(session)
    assert counts["delivered"] == 1 and rows[0].recipient == "li.na@example.com"


def test_a_mail_sink_whose_port_is_taken_fails_to_start_and_leaves_no_event_loop_open(tmp_path):
    # Given a mail server already listening on a port (another demo, say)
    first = MailSink(tmp_path / "first", port=free_port()).start()
    try:
        # When a second one tries the same port
        second = MailSink(tmp_path / "second", port=first.controller.port)
        with pytest.raises((OSError, RuntimeError)):
            second.start()
    finally:
        first.stop()
    # Then it says so, and the event loop aiosmtpd made for it is closed (it would leak its sockets)
    assert second.controller.loop.is_closed()
