"""In Chromium at 390 px, in Chinese and English: an agent messages a customer from a template, and
looks a repeat caller up on the intake form.

Given a web request by Li Na (she reads Chinese) numbered at arrival on the real processes, the
agent opens the ticket on a phone-sized screen, picks "Appointment confirmed" (refused on the
picker: no visit booked yet, the message stays empty), then "Need more information": the Chinese
text appears filled with her name, product and ticket, whatever language the agent works in. She
switches the channel to SMS, sees the character count and the number of messages follow her
edit, and sends: the outbox holds the edited text for Li Na's phone. Screenshots go to
``test-artifacts/screenshots/message-templates-*``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from handlers.demo import DATA_DIR
from handlers.outbox import Outbox
from handlers.ticketing import Ticket
from tests.process.test_journey_arrival import WEB_FORM
from tests.web.live import chromium, live_site, shot, sign_in
from tests.web.test_message_templates import PROCESSES

pytestmark = pytest.mark.browser
TEXT = {
    "en": {"message": "Message the customer", "send": "Send message", "no_visit": "no technician visit booked",
           "count": "characters,", "language": "customer's language (Chinese)"},
    "zh": {"message": "给客户发消息", "send": "发送消息", "no_visit": "尚未预约技术员上门",
           "count": "个字符，共", "language": "客户的语言（中文）"},
}


@pytest.fixture
def site(tmp_path, sqlite_template) -> Iterator[tuple[str, object, str]]:
    """The real processes served on loopback with an agent, and Li Na's request numbered at arrival."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], {"agent": ["agent"]}, catalogue=DATA_DIR) as (
            base, services):
        with services.db.transaction() as s:
            services.runtime.start(s, "after_sales", copy.deepcopy(WEB_FORM), None, "customer")
        with services.db.transaction(write=False) as s:
            number = s.scalars(select(Ticket.number)).one()
        yield base, services, number


def messages(services) -> list[tuple[str, str, str]]:
    with services.db.transaction(write=False) as s:
        rows = s.scalars(select(Outbox).where(Outbox.milestone == "message"))
        return [(o.channel, o.recipient, o.body) for o in rows]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_agent_fills_a_template_in_the_customers_language_edits_it_and_sends_it_by_sms(site, lang):
    base, services, key = site
    t = TEXT[lang]
    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, base, "agent")
        page.goto(f"{base}/lang/{lang}?next=/tickets/{key}")
        page.click(f"details.ws-form > summary:has-text('{t['message']}')")
        assert t["language"] in page.locator("#ws-template-form").inner_text()

        # When she picks a template that needs a booked visit, the picker says why and nothing is filled
        page.select_option("#ws-template", "appointment_confirmed")
        assert t["no_visit"] in page.locator("#err-template").inner_text()
        assert page.input_value("#ws-body") == ""
        shot(page, f"message-templates-{lang}-no-visit")

        # When she picks "Need more information", the Chinese text is filled from the ticket
        page.select_option("#ws-template", "need_information")
        assert page.locator("#err-template").count() == 0
        body = page.input_value("#ws-body")
        assert body.startswith("Li Na，您好！") and key in body and "WMF80-0001" in body
        assert page.input_value("#ws-subject") == f"{key}：请补充报修信息"
        assert page.locator("#ws-sms-count").is_hidden()  # she reads e-mail

        # When she switches to SMS and shortens the text, the count follows
        page.select_option("#ws-channel", "sms")
        assert page.locator("#ws-sms-count").is_visible()
        long_count = page.locator("#ws-sms-count").inner_text()
        assert long_count.startswith(f"{len(body)} {t['count']}")
        short = f"Li Na，您好！请回复 E21 错误代码的照片，工单 {key}。"
        page.fill("#ws-body", short)
        assert page.locator("#ws-sms-count").inner_text().startswith(f"{len(short)} ")
        assert " 1 " in page.locator("#ws-sms-count").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"message-templates-{lang}-sms")

        # And sends it: the outbox holds her text for Li Na's phone
        page.click(f"#message button:has-text('{t['send']}')")
        page.wait_for_url(f"{base}/tickets/{key}#message")
        assert messages(services) == [("sms", "13800000001", short)]
        shot(page, f"message-templates-{lang}-sent")


LOOKUP = {
    "en": {"look_up": "Look up", "known": "Known caller: Li Na", "open": "Open tickets of this caller",
           "unknown": "No customer has this phone number"},
    "zh": {"look_up": "查找", "known": "来电客户：Li Na", "open": "该客户有未结工单",
           "unknown": "没有客户使用此电话号码"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_repeat_caller_is_found_by_phone_and_fills_the_intake_form_in_place(site, lang):
    base, _services, key = site
    t = LOOKUP[lang]
    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, base, "agent")
        page.goto(f"{base}/lang/{lang}?next=/requests/new")
        # Given the agent noted what the caller says before asking who she is
        page.fill("[name='fault.description']", "Still E21 after the filter was cleaned")

        # When she types the caller's phone and looks it up, the form fills in place
        page.fill("#caller-lookup", "138 0000 0001")
        page.click(f"#caller-submit:has-text('{t['look_up']}')")
        page.locator("#caller-known").wait_for()
        assert t["known"] in page.locator("#caller-known").inner_text()
        assert page.url == f"{base}/requests/new"  # no round trip: the script asked /requests/lookup
        assert page.input_value("[name='customer.name']") == "Li Na"
        assert page.input_value("[name='customer.email']") == "li.na@example.com"
        assert page.input_value("[name='product.serial_number']") == "WMF80-0001"
        assert page.input_value("[name='fault.description']") == "Still E21 after the filter was cleaned"
        # and her open ticket is offered, so the call is not a new ticket
        assert t["open"] in page.locator("#caller-open").inner_text()
        assert page.locator(f"#caller-open a:has-text('{key}')").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"caller-lookup-{lang}-known")

        # A number nobody has gets a clear message, and the form is not touched
        page.fill("#caller-lookup", "139 1234 5678")
        page.click("#caller-submit")
        page.locator("#caller-unknown").wait_for()
        assert t["unknown"] in page.locator("#caller-unknown").inner_text()
        # a lookup that is no phone number is refused on its field
        page.fill("#caller-lookup", "call me")
        page.click("#caller-submit")
        page.locator("#err-lookup").wait_for()
        assert page.locator("#caller-lookup").get_attribute("aria-invalid") == "true"
        shot(page, f"caller-lookup-{lang}-refused")
