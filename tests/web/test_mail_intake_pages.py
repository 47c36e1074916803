"""The mail intake's pages: the intake log for supervisors and admins (Chinese and English, addresses
masked for admins), the mail on the ticket's timeline, and the admin's intake settings."""

from __future__ import annotations

import mailbox
import re
from html import unescape
from pathlib import Path

from handlers.mail_intake import IntakeSettings
from handlers.mail_intake_sources import read_maildir
from tests.handlers.test_mail_intake import listener, log_rows, mail, send, settings  # noqa: F401  (fixtures)


def test_supervisors_read_the_intake_log_in_chinese_and_english(desk, listener, settings, signed_in):  # noqa: F811  (the fixtures imported above)
    send(settings, mail())
    send(settings, mail(Auto_Submitted="auto-replied"))
    sue = signed_in("supervisor")
    page = sue.get("/mail/intake/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    number = log_rows(desk)[0].ticket_number
    assert "Request opened" in page and number in page and "wang.fang@example.cn" in page
    assert "An automatic message (Auto-Submitted: auto-replied)." in page
    zh = sue.get("/mail/intake/?outcome=refused", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "邮件接收" in zh and "自动发送的邮件（Auto-Submitted：auto-replied）。" in zh and number not in zh


def test_admins_see_the_log_with_customers_addresses_and_subjects_masked(desk, listener, settings, signed_in):  # noqa: F811  (the fixtures imported above)
    send(settings, mail())
    page = signed_in("admin").get("/mail/intake/").get_data(as_text=True)
    assert "Request opened" in page and "wang.fang@example.cn" not in page and "will not drain" not in page


def test_the_intake_log_refuses_agents_and_an_unknown_outcome_naming_the_field(desk, signed_in):
    assert signed_in("agent").get("/mail/intake/").status_code == 403
    refused = signed_in("supervisor").get("/mail/intake/?outcome=lost")
    assert refused.status_code == 400 and "outcome" in refused.get_data(as_text=True)


def test_the_mail_is_on_the_tickets_timeline_with_refused_files_named(desk, listener, settings, signed_in):  # noqa: F811  (the fixtures imported above)
    msg = mail()
    msg.add_attachment(b"MZ\x90\x00" + b"\x00" * 64, maintype="application", subtype="octet-stream",
                       filename="driver.exe")
    send(settings, msg)
    number = log_rows(desk)[0].ticket_number
    page = signed_in("supervisor").get(f"/tickets/{number}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "E-mail from the customer" in page and "driver.exe" in page and "stops with water inside" in page


def test_an_admin_sets_the_maildir_and_size_limit_the_worker_then_uses(desk, services, signed_in, tmp_path: Path):
    from tests.web.test_admin_settings import _form, _stored

    box = mailbox.Maildir(str(tmp_path / "site"), create=True)
    box.add(mail().as_bytes())
    admin = signed_in("admin")
    form = _form(admin, mail_intake_maildir=str(tmp_path / "site"), mail_intake_max_mb="5")
    assert admin.post("/admin/settings", form).status_code == 302
    assert _stored(services)["mail.intake"] == {"maildir": str(tmp_path / "site"), "max_bytes": 5 * 2**20}
    # the worker's job, with nothing in the environment, reads the admin's Maildir
    assert read_maildir(desk.database, desk.runtime, desk.clock.now(), IntakeSettings()) == 1
    assert [r.outcome for r in log_rows(desk)] == ["opened"]


def test_bad_mail_intake_settings_are_refused_on_their_fields_and_nothing_is_stored(desk, services, signed_in):
    from tests.web.test_admin_settings import _form, _stored

    admin = signed_in("admin")
    refused = admin.post("/admin/settings", _form(admin, mail_intake_maildir="relative/Maildir",
                                                  mail_intake_max_mb="lots"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    maildir_error = re.search(r'id="err-mail_intake_maildir"[^>]*>([^<]*)<', page)
    size_error = re.search(r'id="err-mail_intake_max_mb"[^>]*>([^<]*)<', page)
    assert maildir_error and "relative/Maildir" in unescape(maildir_error.group(1))
    assert size_error and "a size in MB from 0.1 to 100" in size_error.group(1)
    assert 'value="lots"' in page  # what was typed stays
    assert "mail.intake" not in _stored(services)
