"""In Chromium, in Chinese and English (and at 390 px): an agent works a ticket from its page.

Given a ticket with its customer record, the agent attaches a photo, is refused a 30 MB file
and a program renamed ``.jpg`` (a clear error on the file field, nothing kept), adds a note,
logs a call, messages the customer — the mail arrives at an SMTP server on loopback — edits
the phone number, and finds the ticket on the customer's record. Screenshots go to
``test-artifacts/screenshots/workspace-*``.
"""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from engine import clock
from handlers.attachments import Attachment
from handlers.outbox import deliver_outbox
from handlers.transports import SmtpSettings, SmtpTransport
from tests.web.conftest import CUSTOMER, PRODUCT, WEB_FIXTURES
from tests.web.live import chromium, live_site, shot, sign_in
from tests.web.test_ticket_workspace_actions import record_customer

pytestmark = pytest.mark.browser
KEY = "AS-20260302-00042"
#: a 1 × 1 pixel JPEG
PHOTO = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f"
    "1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000"
    "010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411"
    "0512213141061351610722711432819108a1b1c1d1f0e1f1ffda0008010100003f00fbd3ffd9")
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
TEXT = {
    "en": {"attach": "Attach", "note": "Add an internal note", "add_note": "Add note", "call": "Log a call",
           "log_call": "Log call", "message": "Message the customer", "send": "Send message",
           "edit": "Edit contact details", "save": "Save contact details", "too_big": "larger than 10 MB",
           "refused": "are refused", "record": "Customer record and earlier tickets", "attached": "File attached",
           "called": "outbound, reached, 6 min"},
    "zh": {"attach": "上传附件", "note": "添加内部备注", "add_note": "添加备注", "call": "记录通话",
           "log_call": "记录通话", "message": "给客户发消息", "send": "发送消息",
           "edit": "修改联系方式", "save": "保存联系方式", "too_big": "文件超过 10 MB",
           "refused": "一律拒收", "record": "客户档案与以往工单", "attached": "已添加附件",
           "called": "呼出, 已接通, 6 分钟"},
}


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def site(tmp_path, sqlite_template) -> Iterator[tuple[str, object, int]]:
    """The repair process served on loopback with an agent, and one ticket with its customer record."""
    users = {"agent": ["agent"], "qa": ["qa"]}
    with live_site(tmp_path, sqlite_template, [WEB_FIXTURES / "customer"], users) as (base, services):
        with services.db.transaction() as s:
            services.runtime.start(s, "web_repair", {
                "ticket_number": KEY, "channel": "hotline", "priority": "high", "customer_tier": "vip",
                "customer": {**CUSTOMER, "name": "Li Lei"}, "product": PRODUCT,
                "fault": {"description": "Screen flickers"}}, KEY, "agent")
            customer_id, _ticket = record_customer(s, KEY)
        yield base, services, customer_id


def files_kept(services) -> int:
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Attachment)) or 0


def open_section(page, summary: str) -> None:
    page.click(f"details.ws-form > summary:has-text('{summary}')")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_agent_works_a_ticket_from_its_page(site, mailbox, tmp_path, lang):
    base, services, customer_id = site
    box, port = mailbox
    t = TEXT[lang]
    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "agent")
        page.goto(f"{base}/lang/{lang}?next=/tickets/{KEY}")
        assert page.locator("html").get_attribute("lang").startswith(lang)
        shot(page, f"workspace-{lang}-ticket")

        # When the agent attaches a photo, it is listed and kept
        page.set_input_files("#ws-file", files=[{"name": "damage.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}])
        page.click(f"form.ws-upload button:has-text('{t['attach']}')")
        page.wait_for_url(f"{base}/tickets/{KEY}#files")
        assert page.locator("ul.files a:has-text('damage.jpg')").is_visible()
        assert files_kept(services) == 1

        # A 30 MB file and a program renamed .jpg get an error on the file field; nothing more is kept
        huge = tmp_path / "huge.jpg"
        huge.write_bytes(PHOTO + b"\x00" * (30 * 1024 * 1024))
        page.set_input_files("#ws-file", files=[str(huge)])
        page.click(f"form.ws-upload button:has-text('{t['attach']}')")
        assert t["too_big"] in page.locator("#err-file").inner_text()
        assert page.locator("#ws-file").get_attribute("aria-invalid") == "true"
        shot(page, f"workspace-{lang}-too-big")
        page.set_input_files("#ws-file", files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": PROGRAM}])
        page.click(f"form.ws-upload button:has-text('{t['attach']}')")
        assert t["refused"] in page.locator("#err-file").inner_text()
        assert "photo.jpg" in page.locator("#err-file").inner_text()
        shot(page, f"workspace-{lang}-program-refused")
        assert files_kept(services) == 1

        # A note, a call and a message to the customer
        page.goto(f"{base}/tickets/{KEY}")
        open_section(page, t["note"])
        page.fill("#ws-note", "客户希望上午上门" if lang == "zh" else "Customer prefers mornings")
        page.click(f"#note button:has-text('{t['add_note']}')")
        page.wait_for_url(f"{base}/tickets/{KEY}#note")
        open_section(page, t["call"])
        page.select_option("#ws-direction", "outbound")
        page.select_option("#ws-outcome", "reached")
        page.fill("#ws-minutes", "6")
        page.fill("#ws-call-note", "Agreed Monday 10:00")
        page.click(f"#call button:has-text('{t['log_call']}')")
        page.wait_for_url(f"{base}/tickets/{KEY}#call")
        open_section(page, t["message"])
        page.fill("#ws-subject", f"{KEY}: visit on Monday")
        said = "技术员周一上午十点上门。" if lang == "zh" else "The technician comes on Monday at 10:00."
        page.fill("#ws-body", said)
        page.click(f"#message button:has-text('{t['send']}')")
        page.wait_for_url(f"{base}/tickets/{KEY}#message")

        # When the worker delivers the outbox, the mail arrives on loopback
        report = deliver_outbox(services.db, {"email": SmtpTransport(SmtpSettings(host="127.0.0.1", port=port))},
                                clock.now())
        assert len(report.delivered) == 1
        [mail] = box.messages
        assert mail["To"] == "li.lei@example.com" and mail["Subject"] == f"{KEY}: visit on Monday"
        body = mail.get_payload(decode=True).decode(mail.get_content_charset() or "utf-8")
        assert ("技术员周一上午十点上门" if lang == "zh" else "comes on Monday") in body

        # A bad phone number is refused on its field and changes nothing; a good one is saved, old → new
        open_section(page, t["edit"])
        page.fill("#ws-phone", "call me")
        page.click(f"#contact button:has-text('{t['save']}')")
        page.locator("#err-phone").wait_for()
        assert page.input_value("#ws-phone") == "call me"
        shot(page, f"workspace-{lang}-bad-phone")
        page.fill("#ws-phone", "139 1234 5678")
        page.click(f"#contact button:has-text('{t['save']}')")
        page.wait_for_url(f"{base}/tickets/{KEY}#contact")
        timeline = page.locator("#timeline").inner_text()
        assert "13800138000 → 13912345678" in timeline
        assert t["called"] in timeline and t["attached"] in timeline
        assert ("客户希望上午上门" if lang == "zh" else "Customer prefers mornings") in timeline
        shot(page, f"workspace-{lang}-after-work")

        # The customer's record lists the ticket
        page.click(f"a:has-text('{t['record']}')")
        page.wait_for_url(f"{base}/customers/{customer_id}")
        assert page.locator(f"#tickets a:has-text('{KEY}')").is_visible()
        assert "13912345678" in page.locator("aside").inner_text()
        shot(page, f"workspace-{lang}-customer")

        # On a phone the ticket page and the list fit 390 px
        page.set_viewport_size({"width": 390, "height": 844})
        for path, name in ((f"/tickets/{KEY}", "ticket"), ("/tickets", "list"), (f"/customers/{customer_id}",
                                                                                  "customer")):
            page.goto(f"{base}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            shot(page, f"workspace-{lang}-phone-{name}")
