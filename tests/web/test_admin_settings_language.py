"""An admin sets the business language on /admin/settings: mail to staff who chose no language follows it."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent
from engine.settings import business_language, language_of
from tests.web.test_admin_settings import _form, _stored


def test_an_admin_makes_english_the_business_language_and_it_is_audited(signed_in, services):
    # Given the settings page, which offers the business language, Chinese by default
    admin = signed_in("admin")
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="business_language"' in page and '<option value="zh" lang="zh" selected>' in page
    # When the admin chooses English
    assert admin.post("/admin/settings", _form(admin, business_language="en")).status_code == 302
    # Then staff without a language of their own are written to in English, and the change is on record
    with services.db.transaction(write=False) as s:
        assert (business_language(s), language_of(s, ""), language_of(s, "zh")) == ("en", "en", "zh")
        keys = [e.data["key"] for e in s.scalars(select(AuditEvent).where(AuditEvent.stream == "settings"))]
    assert keys == ["business.language"]


def test_a_language_the_app_does_not_speak_is_refused_on_its_field_and_nothing_is_saved(signed_in, services):
    admin = signed_in("admin")
    admin.get("/lang/zh")
    response = admin.post("/admin/settings", _form(admin, business_language="fr"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-business_language"' in page
    assert "language must be one of" not in page and "zh, en" in page
    assert _stored(services) == {}
