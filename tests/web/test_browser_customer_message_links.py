"""A customer on a 390 px phone opens the link in the message they were sent and answers, in Chinese and English.

One live server on the real bundle; the public address is the live server's, so the links in the
delivered messages are the ones the customer taps. The quote e-mail goes through a real SMTP server
on loopback, the agent's first answer by SMS (the recording transport). The message is shown as the
phone shows it, its link tapped, the answer page used without a login. Screenshots land in
``test-artifacts/screenshots`` (``customer-link-*.png``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock as engine_clock
from engine.identity import Actor
from handlers.customer_links import links_for
from handlers.outbox import deliver_outbox
from handlers.transports import Delivery, MailSink, RecordingTransport, SmtpSettings, SmtpTransport
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE, Case, Desk
from tests.support.net import free_port
from tests.support.states import frozen_clock
from tests.web.live import chromium, live_site, shot, sign_in
from tests.web.test_browser_phone import PHONE, too_wide

pytestmark = pytest.mark.browser
STAFF = ("agent", "technician", "warehouse", "supervisor", "qa")
LINK = re.compile(r"https?://[^\s，。；）)]+")
WORDS = {
    "en": {"accept": "true", "sent": "Thank you for your answer.", "quote": "Your repair quote",
           "repaired": "Your device has been repaired", "survey": "How did we do?",
           "bad_url": "is not a web address like", "saved": "Settings saved.",
           "label": "Your answer to the customer", "told": "It is sent to the customer on their channel",
           "listed": "We replied to you",
           "reply": "Please clean the drain filter behind the lower panel, then run a rinse cycle."},
    "zh": {"accept": "true", "sent": "感谢您的答复", "quote": "您的维修报价",
           "repaired": "您的设备已修好", "survey": "请评价我们的服务",
           "bad_url": "不是有效的网址", "saved": "设置已保存",
           "label": "对客户的答复", "told": "将通过客户的渠道", "listed": "客服已答复",
           "reply": "请清理下方面板后面的排水过滤器，然后运行一次漂洗程序。"},
}


@pytest.fixture(scope="module")
def clock() -> Iterator[engine_clock.FrozenClock]:
    yield from frozen_clock()


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template, clock) -> Iterator[tuple[str, Any, Any]]:
    """The live server, its services and the mail sink; customer links point at the live server."""
    tmp_path = tmp_path_factory.mktemp("customer-links")
    port = free_port()
    box = MailSink(tmp_path / "mail", port=port).start()
    patch = pytest.MonkeyPatch()
    try:
        with live_site(tmp_path, sqlite_template, [PROCESSES], {role: [role] for role in (*STAFF, "admin")},
                       catalogue=PROCESSES / "data") as (base, services):
            patch.setenv("AFTERSALES_PUBLIC_URL", base)
            yield base, services, (box, SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout=5)))
    finally:
        patch.undo()
        box.stop()


def deliver(services: Any, smtp: SmtpTransport) -> None:
    record = RecordingTransport(services.db)
    deliver_outbox(services.db, {"email": smtp, "sms": record, "wechat": record}, engine_clock.now())


def registered(services: Any, clock: Any, lang: str, series: str, **contact: str) -> Case:
    """Return a request the agent registered for a customer of ``lang`` reached as ``contact`` says (a
    washer of its own, so it is not taken for a repeat contact about another walk's ticket)."""
    desk = Desk(services.db, services.runtime, clock, {r: Actor(r, frozenset({r})) for r in STAFF})
    case = desk.open_case()
    return case.register(customer={**INTAKE["customer"], "language": lang, **contact},
                         product={**INTAKE["product"], "serial_number": f"WMF80-{series}-{lang}"})


def last_mail(box: MailSink, address: str, subject: str) -> str:
    """Return the newest e-mail to ``address`` whose subject says ``subject``, as its reader sees it."""
    mails = [m for m in box.messages() if m["To"] == address and subject in m["Subject"]]
    assert mails, f"no mail {subject!r} reached {address}"
    return f"{mails[-1]['Subject']}\n\n{mails[-1].get_content()}"


def tap(page: Any, text: str, link_start: str, name: str) -> None:
    """Show the message on the phone, screenshot it as ``name`` and tap its link to ``link_start``…."""
    as_the_phone_shows_it(page, text)
    shot(page, name)
    page.locator(f'a[href^="{link_start}"]').first.click()
    page.wait_for_load_state()
    assert "/login" not in page.url


def as_the_phone_shows_it(page: Any, text: str) -> None:
    """Show a delivered message as a phone's mail or SMS app does: its text, its links tappable."""
    body = LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html.escape(text))
    page.set_content('<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">'
                     '<body style="font:16px sans-serif;margin:12px;overflow-wrap:anywhere;white-space:pre-wrap">'
                     f"{body}</body>")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_customer_answers_quote_repair_and_survey_from_the_links_in_their_e_mail_on_a_phone(site, clock, lang):
    base, services, (box, smtp) = site
    words = WORDS[lang]
    address = f"customer-{lang}@example.com"
    # Given a quote e-mailed to a customer who wrote in this language
    case = registered(services, clock, lang, "Q", preferred_channel="email", email=address)
    case.diagnose().propose()
    assert case.waiting_for() == ["quote_response"]
    deliver(services, smtp)
    text = last_mail(box, address, words["quote"])
    assert f"{base}/service/respond/" in text and "/tickets/" not in text
    with chromium(locale="zh-CN" if lang == "zh" else "en-US", viewport=PHONE, has_touch=True,
                  is_mobile=True) as context:
        page = context.new_page()
        # When the customer taps the answer link of the mail on their phone (no login)
        tap(page, text, f"{base}/service/respond/", f"customer-link-{lang}-1-quote-mail")
        assert page.locator('input[name="accepted"]').count() == 2
        assert page.locator("html").get_attribute("lang").startswith(lang)
        assert too_wide(page, f"quote answer {lang}") == []
        shot(page, f"customer-link-{lang}-2-answer-page")
        # And accepts the quote
        page.check(f'input[name="accepted"][value="{words["accept"]}"]')
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert words["sent"] in page.content()
        shot(page, f"customer-link-{lang}-3-answered")
        # Then the repair goes ahead; once done, the "repaired" mail's link confirms it
        assert case.ready() == ["repair_device"]
        case.repair().inspect_repair(passed=True)
        deliver(services, smtp)
        tap(page, last_mail(box, address, words["repaired"]), f"{base}/service/respond/",
            f"customer-link-{lang}-6-repaired-mail")
        page.check('input[name="solved"][value="true"]')
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert words["sent"] in page.content()
        # And the survey mail's link rates the service, which closes the ticket
        deliver(services, smtp)
        tap(page, last_mail(box, address, words["survey"]), f"{base}/s/", f"customer-link-{lang}-7-survey-mail")
        assert too_wide(page, f"survey {lang}") == []
        page.check('input[name="csat"][value="5"]')
        page.check('input[name="nps"][value="9"]')
        shot(page, f"customer-link-{lang}-8-survey-page")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert words["sent"] in page.content()
    assert case.took("record_survey_answer") and case.ticket().status == "closed"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_agent_s_first_answer_reaches_the_customer_s_phone_with_their_status_link(site, clock, lang):
    base, services, (_box, smtp) = site
    words = WORDS[lang]
    phone = "+86 139 0000 0011" if lang == "zh" else "+86 139 0000 0012"
    # Given a request from a customer who wants SMS, answered by the agent
    case = registered(services, clock, lang, "R", preferred_channel="sms", phone=phone)
    case.respond(answer=words["reply"])
    deliver(services, smtp)
    with services.db.transaction(write=False) as s:
        sms = s.scalars(select(Delivery.body).where(Delivery.recipient == phone).order_by(Delivery.id.desc())).first()
    # Then the SMS carries the agent's words and a link to the status page, which opens on the phone
    assert sms and words["reply"] in sms
    with chromium(locale="zh-CN" if lang == "zh" else "en-US", viewport=PHONE, has_touch=True,
                  is_mobile=True) as context:
        page = context.new_page()
        as_the_phone_shows_it(page, sms)
        shot(page, f"customer-link-{lang}-4-reply-sms")
        page.locator(f'a[href^="{base}/service/status/"]').first.click()
        page.wait_for_load_state()
        assert "/login" not in page.url and case.ticket_number in page.content()
        assert too_wide(page, f"status {lang}") == []
        shot(page, f"customer-link-{lang}-5-status-page")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_sets_the_public_address_of_the_links_on_the_settings_page(site, lang):
    base, services, _mail = site
    with chromium(locale="zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "admin")
        page.goto(f"{base}/lang/{lang}?next=/admin/settings")
        field = page.locator('input[name="public_url"]')
        assert field.input_value() == base  # the environment's, until an admin saves one
        # A value customers cannot open is refused on its field, and kept to correct
        field.fill("service.example.cn")
        page.click("form.stack button[type=submit]")
        assert words_in(page, "bad_url", lang) and page.locator("#err-public_url").is_visible()
        assert page.locator('input[name="public_url"]').input_value() == "service.example.cn"
        shot(page, f"customer-link-{lang}-9-admin-refused")
        # Another address is taken, and the next message's links start with it
        page.locator('input[name="public_url"]').fill("https://kefu.example.cn/")
        page.click("form.stack button[type=submit]")
        assert words_in(page, "saved", lang) and page.locator("#err-public_url").count() == 0
        assert page.locator('input[name="public_url"]').input_value() == "https://kefu.example.cn"
        with services.db.transaction(write=False) as s:
            assert links_for(s, "AS-20260302-00001", "received")["status"].startswith("https://kefu.example.cn/")
        # And the live server's own address back, for the other walks
        page.locator('input[name="public_url"]').fill(base)
        page.click("form.stack button[type=submit]")
        assert words_in(page, "saved", lang)


def words_in(page: Any, key: str, lang: str) -> bool:
    page.wait_for_load_state()
    return WORDS[lang][key] in page.content()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_agent_s_answer_typed_in_the_task_is_sent_and_listed_on_the_ticket(site, clock, lang):
    base, services, (_box, smtp) = site
    words = WORDS[lang]
    phone = "+86 139 0000 0111" if lang == "zh" else "+86 139 0000 0112"
    # Given a registered request from a customer who wants SMS
    case = registered(services, clock, lang, "T", preferred_channel="sms", phone=phone)
    [task] = [w.task_id for w in case.work_items() if w.element_id == "respond_to_customer"]
    with chromium(locale="zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "agent")
        page.goto(f"{base}/lang/{lang}?next=/tasks/{task}")
        # The form says the answer goes to the customer
        form = page.locator("form.taskform").inner_text()
        assert words["label"] in form and words["told"] in form
        page.fill("[name=answer]", words["reply"])
        shot(page, f"customer-link-{lang}-10-agent-answer-form")
        # When the agent sends it
        page.locator("form.taskform button[type=submit]").last.click()
        page.wait_for_load_state()
        deliver(services, smtp)
        # Then the ticket lists the message sent to the customer, and the answer stays on its timeline
        page.goto(f"{base}/tickets/{case.ticket_number}")
        sent = page.locator("#notifications").inner_text()
        assert words["listed"] in sent
        assert words["reply"] in page.content()
        page.locator("#notifications").scroll_into_view_if_needed()
        shot(page, f"customer-link-{lang}-11-agent-ticket")
    with services.db.transaction(write=False) as s:
        bodies = list(s.scalars(select(Delivery.body).where(Delivery.recipient == phone).order_by(Delivery.id)))
    assert len(bodies) == 2 and words["reply"] in bodies[-1]  # after the acknowledgement, the answer
