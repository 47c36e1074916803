"""``/admin/settings``: mail sender, business calendars and KPI thresholds, stored, audited and read
by the outbox, the SLA clocks and the KPI alerts instead of their environment or data file."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

from sqlalchemy import select

from analytics.alerts import alert_rules
from engine.models import AuditEvent
from engine.registry import HandlerContext
from engine.settings import stored_settings
from handlers.outbox import queue_email
from handlers.sla import _calendar
from handlers.transports import default_transports


def _form(browser, **changes):
    """Return the settings form as the page fills it, with ``changes`` made."""
    page = browser.get("/admin/settings").get_data(as_text=True)
    data = {name: unescape(value) for name, value in re.findall(
        r'<input name="([^"]+)" type="text" value="([^"]*)"', page)}
    data.update({name: unescape(value) for name, value in re.findall(
        r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', page)})
    data.update(changes)
    return data


def _stored(services):
    with services.db.transaction(write=False) as s:
        return {k: row.value["value"] for k, row in stored_settings(s).items()}


def _calendar_now(services, name="standard"):
    with services.db.transaction(write=False) as s:
        ctx = HandlerContext(session=s, instance_id=1, deployment_id=0, business_key=None, task_id="t",
                             element_id="e", now=datetime(2026, 3, 2, 9, tzinfo=UTC))
        return _calendar(ctx, name)


def test_the_page_shows_todays_values_from_environment_and_files(signed_in, monkeypatch):
    monkeypatch.setenv("AFTERSALES_SMTP_FROM", "Desk <desk@shop.example>")
    page = signed_in("admin").get("/admin/settings").get_data(as_text=True)
    assert 'value="Desk &lt;desk@shop.example&gt;"' in page
    assert "2026-10-01" in page and 'name="cal.standard.hours.mon" type="text" value="09:00-18:00"' in page
    assert 'name="kpi.csat_quarter.threshold" type="text" value="85"' in page  # a share in per cent


def test_saved_settings_are_audited_and_read_by_mail_sla_and_alerts(signed_in, services):
    # Given the admin's form with a new sender, a new holiday on Tuesday 3 March and a stricter CSAT alert
    admin = signed_in("admin")
    form = _form(admin, mail_sender="Service Desk <help@shop.example>",
                 **{"cal.standard.holidays": "2026-03-03\n2026-10-01", "kpi.csat_quarter.threshold": "90",
                    "kpi.csat_quarter.min_count": "5"})
    # When it is saved
    assert admin.post("/admin/settings", form).status_code == 302
    # Then the outbox sends as the new sender, the SLA calendar skips the holiday, the alert uses 0.9
    assert default_transports(services.db)["email"].settings.sender == "Service Desk <help@shop.example>"
    with services.db.transaction() as s:
        queued = queue_email(s, "sam@example.com", "en", "Alert", "Body", "KPI-1", "kpi_alert", "t", 0,
                             datetime(2026, 3, 2, 9, tzinfo=UTC))
        assert queued.message_id.endswith("@shop.example>")
    monday_5pm_shanghai = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert _calendar_now(services).add(monday_5pm_shanghai, 2 * 3600) == datetime(2026, 3, 4, 2, tzinfo=UTC)
    with services.db.transaction(write=False) as s:
        csat = next(r for r in alert_rules(s) if r["id"] == "csat_quarter")
        events = [(e.actor, e.data["key"]) for e in s.scalars(select(AuditEvent).where(
            AuditEvent.stream == "settings").order_by(AuditEvent.seq))]
    assert (csat["below"], csat["min_count"]) == (0.9, 5)
    assert sorted(events) == [("admin", "calendars"), ("admin", "kpi.alert_thresholds"), ("admin", "mail.sender")]
    # And saving the same again changes nothing
    assert admin.post("/admin/settings", _form(admin)).status_code == 302
    with services.db.transaction(write=False) as s:
        assert len(list(s.scalars(select(AuditEvent).where(AuditEvent.stream == "settings")))) == 3


def test_bad_values_are_named_on_their_fields_and_nothing_is_saved(signed_in, services):
    admin = signed_in("admin")
    form = _form(admin, mail_sender="Service Desk <help at shop>",
                 **{"cal.standard.holidays": "2026-10-01\n2026-13-45", "cal.standard.hours.tue": "9-18",
                    "cal.standard.timezone": "Mars/Olympus", "kpi.csat_quarter.threshold": "150",
                    "kpi.csat_quarter.min_count": "many"})
    response = admin.post("/admin/settings", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field, text in (("mail_sender", "is not a sender address"),
                        ("cal-standard-holidays", "&#39;2026-13-45&#39; is not a date like 2026-10-01"),
                        ("cal-standard-hours-tue", "is not working hours like 09:00-18:00"),
                        ("cal-standard-timezone", "is not a time zone"),
                        ("kpi-csat_quarter-threshold", "Enter a percentage from 0 to 100, such as 85."),
                        ("kpi-csat_quarter-min_count", "a whole number of tickets")):
        assert f'id="err-{field}"' in page, field
        assert text in page, text
    assert "2026-13-45" in page  # the input is kept to correct
    assert _stored(services) == {}


def test_a_malformed_holiday_reads_in_chinese_on_a_chinese_page(signed_in, services):
    admin = signed_in("admin")
    admin.get("/lang/zh")
    page = admin.post("/admin/settings", _form(admin, **{"cal.standard.holidays": "10/01/2026"})
                      ).get_data(as_text=True)
    assert "&#39;10/01/2026&#39; 不是有效的日期（如 2026-10-01）" in page
    assert _stored(services) == {}
