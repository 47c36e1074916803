"""A customer answers from the message they got: the link in the delivered e-mail or SMS opens their page
without a login, and their answer moves the ticket on; the agent's first answer reaches them too.

E-mail goes through a real SMTP server on loopback (the demo's mail sink); SMS and WeChat through the
recording transport, read back from ``notify_delivery``.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from handlers.notifications import sent_for
from handlers.outbox import deliver_outbox
from handlers.transports import Delivery, MailSink, RecordingTransport, SmtpTransport
from tests.handlers.test_customer_language_mail import sink  # noqa: F401  (the fixture: the mail sink on loopback)
from tests.process.driver import INTAKE, Case

LINK = re.compile(r"https?://[^\s，。；）)]+")
EN_MAIL = {"language": "en", "preferred_channel": "email", "email": "li.na@example.com"}
ZH_SMS = {"name": "李娜", "language": "zh", "preferred_channel": "sms"}


class Inbox:
    """What reached the customers: the mail sink's e-mail and the SMS/WeChat record, newest last."""

    def __init__(self, desk: Any, mail: tuple[MailSink, SmtpTransport]) -> None:
        self.desk, (self.box, self.smtp) = desk, mail

    def deliver(self) -> None:
        """Run the worker's outbox job: e-mail to the SMTP sink, SMS and WeChat to the record."""
        record = RecordingTransport(self.desk.database)
        deliver_outbox(self.desk.database, {"email": self.smtp, "sms": record, "wechat": record},
                       self.desk.clock.now())

    def last(self, channel: str, to: str) -> str:
        """Return the text of the newest message delivered to ``to`` on ``channel``."""
        self.deliver()
        if channel == "email":
            mails = [m for m in self.box.messages() if m["To"] == to]
            assert mails, f"no e-mail reached {to}"
            return f"{mails[-1]['Subject']}\n{mails[-1].get_content()}"
        with self.desk.database.transaction(write=False) as session:
            bodies = list(session.scalars(select(Delivery.body).where(Delivery.channel == channel,
                                                                      Delivery.recipient == to)
                                          .order_by(Delivery.id)))
        assert bodies, f"no {channel} message reached {to}"
        return bodies[-1]


@pytest.fixture
def inbox(role_desk: Any, sink: tuple[MailSink, SmtpTransport]) -> Inbox:  # noqa: F811  (the imported fixture)
    return Inbox(role_desk, sink)


def link_to(text: str, path_start: str) -> str:
    """Return the path (no host) of the link in ``text`` that opens ``path_start``…, checking it is absolute."""
    links = [link for link in LINK.findall(text) if urlsplit(link).path.startswith(path_start)]
    assert links, f"no {path_start} link in: {text}"
    assert links[0].startswith("https://service.example.cn/"), links[0]
    return urlsplit(links[0]).path


@pytest.fixture(autouse=True)
def public_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://service.example.cn")


def quoted(desk: Any, customer: dict[str, Any]) -> Case:
    """A field repair the agent quoted within authority: the ticket waits for the customer's answer."""
    case = desk.open_case()
    case.register(customer={**INTAKE["customer"], **customer}).diagnose().propose()
    assert case.waiting_for() == ["quote_response"]
    return case


def test_the_quote_e_mail_lets_the_customer_accept_without_a_login_and_the_repair_goes_ahead(
        role_desk, inbox, browser):
    # Given a quote sent by e-mail to an English-speaking customer
    case = quoted(role_desk, EN_MAIL)
    mail = inbox.last("email", "li.na@example.com")
    assert "Your repair quote" in mail and "/tickets/" not in mail
    # When the customer opens the answer link of the mail (not signed in)
    answer = link_to(mail, "/service/respond/")
    page = browser.get(answer, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'name="accepted"' in page.get_data(as_text=True)
    # And the quote itself, from the mail's second link
    document = browser.get(link_to(mail, f"{answer}/quote"))
    assert document.status_code == 200 and case.data()["quote"]["customer_pays"] in document.get_data(as_text=True)
    # And accepts
    assert browser.post(answer, {"accepted": "true", "comment": "Go ahead"}).status_code == 200
    # Then the repair is scheduled with the technician
    assert "quote_response" not in case.waiting_for() and case.ready() == ["repair_device"]


def test_the_quote_sms_lets_a_chinese_customer_decline_and_the_ticket_closes_as_declined(role_desk, inbox, browser):
    # Given a quote sent by SMS to a Chinese-speaking customer
    case = quoted(role_desk, ZH_SMS)
    sms = inbox.last("sms", INTAKE["customer"]["phone"])
    assert sms.startswith("【售后服务】工单") and "/tickets/" not in sms
    # When they open its link and decline
    answer = link_to(sms, "/service/respond/")
    page = browser.get(answer, headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "您是否接受报价" in page or 'name="accepted"' in page
    assert browser.post(answer, {"accepted": "false", "comment": "太贵了"}).status_code == 200
    # Then the ticket is closed as declined
    assert case.status == "completed" and case.ticket().outcome == "declined"


def test_the_repaired_and_survey_messages_take_the_customer_to_confirm_and_rate(role_desk, inbox, browser):
    # Given a repaired device (the quote accepted from its link)
    case = quoted(role_desk, EN_MAIL)
    accept = link_to(inbox.last("email", "li.na@example.com"), "/service/respond/")
    browser.get(accept)
    assert browser.post(accept, {"accepted": "true"}).status_code == 200
    case.repair().inspect_repair(passed=True)
    # When the customer confirms from the link of the "repaired" mail
    repaired = inbox.last("email", "li.na@example.com")
    assert "Your device has been repaired" in repaired
    confirm = link_to(repaired, "/service/respond/")
    assert 'name="solved"' in browser.get(confirm).get_data(as_text=True)
    assert browser.post(confirm, {"solved": "true"}).status_code == 200
    # Then the survey mail comes, and its link opens the survey without a login
    survey_mail = inbox.last("email", "li.na@example.com")
    assert "How did we do?" in survey_mail
    survey = link_to(survey_mail, "/s/")
    assert 'name="csat"' in browser.get(survey).get_data(as_text=True)
    # And the customer's rating closes the ticket
    assert browser.post(survey, {"csat": "5", "nps": "9", "comment": "Quick"}).status_code == 200
    assert case.took("record_survey_answer") and case.ticket().status == "closed"


@pytest.mark.parametrize(("customer", "channel", "to"), [
    (EN_MAIL, "email", "li.na@example.com"),
    (ZH_SMS, "sms", INTAKE["customer"]["phone"]),
])
def test_the_agent_s_first_answer_reaches_the_customer_and_stays_on_the_ticket(
        role_desk, inbox, browser, signed_in, customer, channel, to):
    # Given a registered request
    case = role_desk.open_case()
    case.register(customer={**INTAKE["customer"], **customer})
    # When the agent answers it in "Respond to the customer"
    answer = "Please clean the drain filter behind the lower panel, then run a rinse cycle."
    case.respond(answer=answer)
    # Then the customer gets the answer, in their language's template, with their status page
    text = inbox.last(channel, to)
    assert answer in text
    assert {"email": "Our answer to your request", "sms": f"【售后服务】工单{case.ticket_number}："}[channel] in text
    status = browser.get(link_to(text, "/service/status/"))
    assert status.status_code == 200 and case.ticket_number in status.get_data(as_text=True)
    # And the ticket lists it with its sent notifications, and shows the answer
    notes = role_desk.read(lambda s: sent_for(s, case.ticket_number))
    assert [(n["milestone"], n["channel"], n["status"]) for n in notes][-1] == ("reply", channel, "delivered")
    page = signed_in("agent").get(f"/tickets/{case.ticket_number}").get_data(as_text=True)
    assert answer in page


def test_the_link_the_agent_copies_from_the_ticket_page_is_on_the_public_address_and_opens(
        role_desk, browser, signed_in):
    # Given a quote waiting for the customer's answer
    case = quoted(role_desk, EN_MAIL)
    # When the agent copies the customer's link from the ticket page (for a customer on the phone)
    page = signed_in("agent").get(f"/tickets/{case.ticket_number}").get_data(as_text=True)
    [link] = re.findall(r'value="(https://service\.example\.cn/service/respond/[^"]+)"', page)
    # Then it is on the public address customers reach, and opens the answer page without a login
    assert 'name="accepted"' in browser.get(urlsplit(link).path).get_data(as_text=True)


def test_an_answer_that_solves_the_problem_at_first_contact_lets_the_customer_confirm_from_it(
        role_desk, inbox, browser):
    # Given a usage question the agent answers and solves on the first contact
    case = role_desk.open_case()
    case.register(customer={**INTAKE["customer"], **EN_MAIL}, fault={**INTAKE["fault"], "category": "usage"})
    case.respond(resolved=True, answer="Hold the start button for three seconds to unlock the child lock.")
    assert case.waiting_for() == ["customer_confirmation"]
    # When the customer confirms from the link of the answer they got
    mail = inbox.last("email", "li.na@example.com")
    assert "Hold the start button" in mail and "Did this solve your problem?" in mail
    confirm = link_to(mail, "/service/respond/")
    assert 'name="solved"' in browser.get(confirm).get_data(as_text=True)
    assert browser.post(confirm, {"solved": "true"}).status_code == 200
    # Then the ticket goes on to the survey
    assert case.waiting_for() == ["survey_answered"]


def test_a_message_template_the_agent_picks_carries_the_customer_s_status_link(role_desk, browser, signed_in):
    # Given a registered request
    case = role_desk.open_case()
    case.register(customer={**INTAKE["customer"], **EN_MAIL})
    # When the agent picks "we need more information" on the ticket page
    page = signed_in("agent").get(f"/tickets/{case.ticket_number}?template=need_information")
    body = html.unescape(re.search(r'<textarea[^>]*id="ws-body"[^>]*>([^<]*)</textarea>',
                                   page.get_data(as_text=True)).group(1))
    # Then the text offers the customer's page, where they add the information and photos, no login
    status = browser.get(link_to(body, "/service/status/")).get_data(as_text=True)
    assert case.ticket_number in status and 'name="photo"' in status


def test_the_link_opens_in_the_customer_s_language_whatever_the_phone_asks_for(role_desk, inbox, browser):
    # Given a quote sent by SMS to a Chinese-speaking customer
    quoted(role_desk, ZH_SMS)
    sms = inbox.last("sms", INTAKE["customer"]["phone"])
    [link] = [link for link in LINK.findall(sms) if "/service/respond/" in link]
    assert link.endswith("?lang=zh")
    # When they open it on a phone set to English
    parts = urlsplit(link)
    page = browser.get(f"{parts.path}?{parts.query}", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    # Then the page speaks Chinese, and so do the pages after it
    assert '<html lang="zh' in page and "确认或拒绝报价" in page
    assert '<html lang="zh' in browser.get("/service/status", headers={"Accept-Language": "en-US"}).get_data(
        as_text=True)


def test_a_link_forged_with_the_development_key_in_the_source_is_refused(role_desk, browser, monkeypatch):
    from itsdangerous import URLSafeTimedSerializer

    from handlers.customer_links import DEV_SECRET, SALT

    monkeypatch.delenv("AFTERSALES_SECRET_KEY", raising=False)
    case = quoted(role_desk, EN_MAIL)
    forged = URLSafeTimedSerializer(DEV_SECRET, salt=SALT).dumps({"t": case.ticket_number, "m": "quote_response"})
    assert browser.get(f"/service/respond/{forged}").status_code == 404
    assert browser.post(f"/service/respond/{forged}", {"accepted": "true"}, csrf=False).status_code in (400, 404)
    assert case.waiting_for() == ["quote_response"]
