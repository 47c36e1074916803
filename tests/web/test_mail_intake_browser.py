"""In Chromium, in Chinese and English (and at 390 px): a supervisor reads the mail intake log and
follows a mail to its ticket.

Given the real processes served on loopback and the SMTP intake listener on a free loopback
port, a customer's mail (with a program attached) and an auto-reply arrive over SMTP; the
supervisor sees the request opened and the auto-reply refused with its reason, opens the
ticket and finds the mail on its timeline, the program named as refused. Screenshots go to
``test-artifacts/screenshots/mail-intake-*``.
"""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest

from handlers.demo import DATA_DIR
from handlers.mail_intake import IntakeSettings
from handlers.mail_intake_sources import IntakeListener
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
PROCESSES = Path(__file__).resolve().parents[2] / "processes"
TEXT = {
    "en": {"title": "Mail intake", "opened": "Request opened", "refused": "Refused",
           "auto": "An automatic message (Auto-Submitted: auto-replied).", "mail": "E-mail from the customer",
           "files": "Files refused:", "subject": "Washer WM-F80 will not drain",
           "body": "My washer WM-F80 stops with water inside."},
    "zh": {"title": "邮件接收", "opened": "已新建申请", "refused": "已拒收",
           "auto": "自动发送的邮件（Auto-Submitted：auto-replied）。", "mail": "客户来信",
           "files": "被拒收的附件：", "subject": "洗衣机不排水", "body": "我的洗衣机 WM-F80 不排水，里面一直有水。"},
}


def _send(port: int, subject: str, body: str, **headers: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "王芳 <wang.fang@example.cn>", "service@aftersales.example", subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    if not headers:
        msg.add_attachment(b"MZ\x90\x00" + b"\x00" * 64, maintype="application", subtype="octet-stream",
                           filename="driver.exe")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(msg)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_supervisor_reads_the_intake_log_and_finds_the_mail_on_its_ticket(tmp_path, sqlite_template, lang):
    t = TEXT[lang]
    users = {"supervisor": ["supervisor"]}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with live_site(tmp_path, sqlite_template, [PROCESSES], users, catalogue=DATA_DIR) as (base, services):
        listener = IntakeListener(services.db, services.runtime, IntakeSettings("127.0.0.1", port)).start()
        try:
            _send(port, t["subject"], t["body"])
            _send(port, "Out of office", "I am away", Auto_Submitted="auto-replied")
        finally:
            listener.stop()
        with chromium("zh-CN" if lang == "zh" else "en-US") as context:
            page = context.new_page()
            sign_in(page, base, "supervisor")
            page.goto(f"{base}/lang/{lang}?next=/mail/")  # the sent mail's page leads to the intake log
            page.click(f"main a:has-text('{t['title']}')")
            page.wait_for_url(f"{base}/mail/intake/")
            assert page.locator("h1").inner_text() == t["title"]
            opened = page.locator("article.intake-opened")
            assert t["opened"] in opened.inner_text() and t["subject"].lower() in opened.inner_text().lower()
            assert "driver.exe" in opened.inner_text()
            refused = page.locator("article.intake-refused")
            assert t["refused"] in refused.inner_text() and t["auto"] in refused.inner_text()
            shot(page, f"mail-intake-{lang}-log")
            page.set_viewport_size({"width": 390, "height": 844})
            shot(page, f"mail-intake-{lang}-log-390")
            page.set_viewport_size({"width": 1360, "height": 860})

            # When the supervisor follows the mail to its ticket, the mail is on the timeline
            opened.locator("a[href*='/tickets/']").click()
            page.wait_for_url(lambda url: "/tickets/AS-" in url)
            entry = page.locator("#timeline li.step-ticket-mail")
            assert t["mail"] in entry.inner_text() and t["files"] in entry.inner_text()
            assert "driver.exe" in entry.inner_text() and t["body"][:8] in entry.inner_text()
            entry.scroll_into_view_if_needed()
            shot(page, f"mail-intake-{lang}-ticket")
