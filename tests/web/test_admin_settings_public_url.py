"""An admin sets the public address the links in customers' messages start with, on /admin/settings."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent
from handlers.customer_links import links_for, public_url
from tests.web.test_admin_settings import _form, _stored


def test_the_page_shows_the_address_of_the_environment_until_an_admin_saves_one(signed_in, services, monkeypatch):
    monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://service.example.cn")
    admin = signed_in("admin")
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="public_url" type="text" value="https://service.example.cn"' in page
    # Saving the page unchanged stores nothing: the environment still decides
    assert admin.post("/admin/settings", _form(admin)).status_code == 302
    assert _stored(services) == {}


def test_the_admin_s_address_is_audited_and_every_new_customer_link_starts_with_it(signed_in, services,
                                                                                  monkeypatch):
    monkeypatch.delenv("AFTERSALES_PUBLIC_URL", raising=False)
    monkeypatch.delenv("AFTERSALES_BASE_URL", raising=False)
    admin = signed_in("admin")
    assert admin.post("/admin/settings", _form(admin, public_url="https://kefu.example.cn/")).status_code == 302
    with services.db.transaction(write=False) as s:
        links = links_for(s, "AS-20260302-00001", "quote")
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.stream == "settings"))
    assert event.data["key"] == "customer.public_url" and event.data["new"] == "https://kefu.example.cn"
    assert all(link.startswith("https://kefu.example.cn/service/") for link in links.values())
    # And clearing the field goes back to the environment's address
    assert admin.post("/admin/settings", _form(admin, public_url="")).status_code == 302
    with services.db.transaction(write=False) as s:
        assert public_url(s) == "http://127.0.0.1:5000"


def test_an_address_customers_cannot_open_is_refused_on_its_field_in_chinese_and_nothing_is_saved(
        signed_in, services):
    admin = signed_in("admin")
    admin.get("/lang/zh")
    response = admin.post("/admin/settings", _form(admin, public_url="service.example.cn/kefu"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-public_url"' in page
    assert "&#39;service.example.cn/kefu&#39; 不是有效的网址（如 &#39;https://service.example.cn&#39;）" in page
    assert 'value="service.example.cn/kefu"' in page  # kept to correct
    assert _stored(services) == {}
