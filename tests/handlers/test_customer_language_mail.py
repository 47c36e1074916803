"""Everything sent goes in its reader's language: a customer's milestone mail and SMS in the customer's,
alert mail to staff who never chose a language in the business language (Chinese unless the admin
settings say otherwise), not English.

The e-mail goes through a real SMTP server on loopback (the demo's mail sink); SMS through the
recording transport, read back from its record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from analytics.alerts import check_failed_notifications
from engine.identity import create_user
from engine.settings import BUSINESS_LANGUAGE, business_language, set_setting
from handlers.outbox import Outbox, deliver_outbox
from handlers.transports import Delivery, MailSink, RecordingTransport, SmtpSettings, SmtpTransport
from tests.handlers.samples import CUSTOMER
from tests.handlers.test_outbox import free_port

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[MailSink, SmtpTransport]]:
    """The demo's mail sink on a free loopback port, and an SMTP transport to it."""
    port = free_port()
    box = MailSink(tmp_path / "mail", port=port).start()
    yield box, SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout=5))
    box.stop()


class Refusing:
    """An SMTP server that refuses every recipient for good, so customer mail fails and supervisors hear of it."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return "550 5.1.1 no such mailbox"


@pytest.fixture
def refusing() -> Iterator[SmtpTransport]:
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout=5))
    controller.stop()


def received(call, ticket: str, customer: dict) -> int:
    return call("notify.send", task=f"t-{ticket}", ticket_number=ticket, milestone="received", customer=customer,
                data={})["outbox_id"]


def test_a_chinese_customer_gets_chinese_mail_and_an_english_one_english(call, database, clock, sink):
    box, transport = sink
    # Given a customer who wrote in Chinese and one who wrote in English, both reached by e-mail
    received(call, "AS-20260302-00001", {**CUSTOMER, "preferred_channel": "email", "email": "li.wei@example.cn"})
    received(call, "AS-20260302-00002", {**CUSTOMER, "name": "Ada Lovelace", "language": "en",
                                         "preferred_channel": "email", "email": "ada@example.com"})
    # When the worker delivers the outbox to the SMTP server
    report = deliver_outbox(database, {"email": transport}, clock.now())
    # Then each mail arrived in its customer's language
    assert len(report.delivered) == 2
    mails = {m["To"]: m for m in box.messages()}
    chinese, english = mails["li.wei@example.cn"], mails["ada@example.com"]
    assert chinese["Subject"] == "【AS-20260302-00001】我们已收到您的服务申请"
    assert "尊敬的Li Wei" in chinese.get_content()
    assert english["Subject"] == "[AS-20260302-00002] We have received your service request"
    assert not HAN.search(english.get_content()) and "Dear Ada Lovelace" in english.get_content()


def test_a_chinese_customer_gets_a_chinese_sms_and_an_english_one_english(call, database, clock):
    # Given two customers reached by SMS, one Chinese and one English
    zh = received(call, "AS-20260302-00003", {**CUSTOMER, "email": ""})
    en = received(call, "AS-20260302-00004", {**CUSTOMER, "email": "", "language": "en",
                                              "phone": "+44 20 7946 0000"})
    # When the worker hands them to the SMS operator (recorded as sent)
    deliver_outbox(database, {"sms": RecordingTransport(database)}, clock.now())
    with database.transaction(write=False) as session:
        sent = {d.outbox_id: d for d in session.scalars(select(Delivery))}
    # Then the record holds each text in its customer's language
    assert sent[zh].body.startswith("【售后服务】您的服务申请已受理") and "AS-20260302-00003" in sent[zh].body
    assert not HAN.search(sent[en].body) and "AS-20260302-00004" in sent[en].body


def test_the_business_language_is_chinese_until_an_admin_says_otherwise(database):
    with database.transaction() as session:
        assert business_language(session) == "zh"
        set_setting(session, BUSINESS_LANGUAGE, "en", "admin")
        assert business_language(session) == "en"


def _fail_one(call, database, clock, refusing, ticket: str) -> None:
    received(call, ticket, {**CUSTOMER, "preferred_channel": "email", "email": "gone@example.com"})
    deliver_outbox(database, {"email": refusing}, clock.now())


def _staff_mail(database) -> list[Outbox]:
    with database.transaction(write=False) as session:
        return list(session.scalars(select(Outbox).where(Outbox.audience == "staff").order_by(Outbox.id)))


def test_an_alert_to_a_supervisor_without_a_language_is_in_the_business_language(call, database, clock, refusing,
                                                                                  sink):
    box, transport = sink
    # Given a supervisor who never chose a language and one who chose English
    with database.transaction() as session:
        create_user(session, "sue", "correct-horse-1", ["supervisor"], "Sue", "sue@aftersales.example")
        create_user(session, "sam", "correct-horse-1", ["supervisor"], "Sam", "sam@aftersales.example",
                    language="en")
    # When a customer's mail fails for good and the failures job alerts the supervisors
    _fail_one(call, database, clock, refusing, "AS-20260302-00005")
    assert check_failed_notifications(database, clock.now()) == 1
    deliver_outbox(database, {"email": transport}, clock.now())
    # Then Sue reads it in Chinese (the business language), Sam in English
    mails = {m["To"]: m for m in box.messages()}
    assert mails["sue@aftersales.example"]["Subject"] == "1 条客户通知最终发送失败"
    assert "以下客户通知无法送达" in mails["sue@aftersales.example"].get_content()
    assert mails["sam@aftersales.example"]["Subject"] == "1 customer notification failed for good"
    assert not HAN.search(mails["sam@aftersales.example"].get_content())


def test_an_admin_who_sets_english_as_business_language_gets_staff_alerts_in_english(call, database, clock,
                                                                                     refusing):
    # Given an admin made English the business language, and a supervisor who chose none
    with database.transaction() as session:
        set_setting(session, BUSINESS_LANGUAGE, "en", "admin")
        create_user(session, "sue", "correct-horse-1", ["supervisor"], "Sue", "sue@aftersales.example")
    # When two customer mails fail for good
    _fail_one(call, database, clock, refusing, "AS-20260302-00006")
    clock.advance(timedelta(minutes=1))
    _fail_one(call, database, clock, refusing, "AS-20260302-00007")
    assert check_failed_notifications(database, clock.now()) == 2
    # Then the supervisor's alert is English, its count said as English counts it
    [mail] = _staff_mail(database)
    assert (mail.language, mail.subject) == ("en", "2 customer notifications failed for good")


def test_the_dashboard_names_the_failed_notifications_alert_in_the_readers_language(call, database, clock,
                                                                                     refusing):
    from analytics.alerts import FAILED_RULE
    from analytics.dashboard import dashboard
    from analytics.queries import KpiFilter

    # Given a customer mail that failed for good, reported as the day's alert
    _fail_one(call, database, clock, refusing, "AS-20260302-00008")
    check_failed_notifications(database, clock.now())
    # When the dashboard is read in Chinese and in English
    with database.transaction(write=False) as session:
        chinese = dashboard(session, KpiFilter(), clock.now(), "zh")
        english = dashboard(session, KpiFilter(), clock.now(), "en")
    # Then the alert is named in each, its count standing beside it as its basis
    [alert] = [a for a in chinese.alerts if a.rule == FAILED_RULE]
    assert chinese.alert_titles[FAILED_RULE] == "客户通知最终发送失败" and alert.basis == 1
    assert english.alert_titles[FAILED_RULE] == "Customer notifications failed for good"
