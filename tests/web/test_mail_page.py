"""The staff mail page: what was sent, and what failed and why."""

from __future__ import annotations

import pytest

from handlers.outbox import deliver_outbox, queue_email
from handlers.transports import SmtpSettings, SmtpTransport
from tests.handlers.test_outbox import free_port


@pytest.fixture
def mail(services, clock) -> None:
    """One e-mail that was refused for good (an impossible address) and one still waiting."""
    with services.db.transaction() as session:
        queue_email(session, "li.lei at example", "en", "Your request AS-20260302-00001", "We received it.",
                    "AS-20260302-00001", "received", "templates/received.en.md", 1, clock.now())
    nowhere = SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))
    deliver_outbox(services.db, {"email": nowhere}, clock.now())
    with services.db.transaction() as session:
        queue_email(session, "wang@example.com", "en", "Your request AS-20260302-00002", "We received it too.",
                    "AS-20260302-00002", "received", "templates/received.en.md", 2, clock.now())


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_staff_read_what_was_sent_and_why_a_message_failed(signed_in, mail, role):
    html = signed_in(role).get("/mail/").get_data(as_text=True)
    assert "Your request AS-20260302-00001" in html and "Your request AS-20260302-00002" in html
    assert "invalid e-mail address" in html and "We received it too." in html
    failed = signed_in(role).get("/mail/?status=failed").get_data(as_text=True)
    assert "AS-20260302-00001" in failed and "AS-20260302-00002" not in failed
    assert "failed (1)" in failed and "pending (1)" in failed


def test_the_mail_page_is_in_chinese_too(signed_in, mail):
    b = signed_in("supervisor")
    html = b.get("/mail/?status=failed", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "邮件" in html and "未送达" in html


@pytest.mark.parametrize("role", ["technician", "qa", "warehouse"])
def test_other_roles_may_not_read_the_mail(signed_in, role):
    assert signed_in(role).get("/mail/").status_code == 403


def test_an_unknown_status_is_refused_naming_the_field(signed_in):
    response = signed_in("supervisor").get("/mail/?status=lost")
    assert response.status_code == 400 and "status" in response.get_data(as_text=True)
