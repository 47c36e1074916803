"""An e-mail address that could not go into a mail header (line breaks, a smuggled ``Bcc:``,
several addresses) is refused where it enters — API, public form, staff intake, any form — and
nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import forms
from engine.errors import FormValidationError
from engine.models import Instance
from tests.web_api.conftest import REQUEST

HEADER_UNSAFE = (
    "ada@example.com\r\nBcc: everyone@evil.example",
    "ada@example.com\nBcc: everyone@evil.example",
    "ada@example.com\rBcc: x@evil.example",
    "ada@example.com, boss@evil.example",
    "ada@example.com;boss@evil.example",
    "Ada <ada@example.com>",
    "ada @example.com",
    "ada@example.com\t",
    "ada@exa\x00mple.com",
    "ada@@example.com",
)
GOOD = ("ada@example.com", "li.lei+repairs@example.com.cn", "王芳@例子.中国")


def stored(services) -> int:
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Instance))


@pytest.mark.parametrize("address", HEADER_UNSAFE)
def test_a_form_field_of_format_email_refuses_a_header_unsafe_address(address):
    schema = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}
    with pytest.raises(FormValidationError) as caught:
        forms.validate(schema, {"email": address}, where="a contact change")
    assert [e.field for e in caught.value.errors] == ["email"]


@pytest.mark.parametrize("address", GOOD)
def test_an_ordinary_address_passes(address):
    forms.validate({"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
                   {"email": address}, where="a contact change")


@pytest.mark.parametrize("address", HEADER_UNSAFE[:6])
def test_the_api_refuses_the_address_naming_customer_email_and_stores_nothing(app, services, intake, api_key,
                                                                              address):
    body = {**REQUEST, "customer": {**REQUEST["customer"], "email": address}}
    response = app.test_client().post("/api/v1/service-requests", json=body, headers=api_key())
    assert response.status_code == 422, response.get_json()
    assert "customer.email" in {e["field"].replace("/", ".") for e in response.get_json()["errors"]}
    assert stored(services) == 0


def test_the_api_still_takes_an_ordinary_address(app, services, intake, api_key):
    response = app.test_client().post("/api/v1/service-requests", json=REQUEST, headers=api_key())
    assert response.status_code == 201, response.get_json()


PUBLIC = {"customer.name": "Zhang Wei", "product.model": "RT-AX3000", "product.serial_number": "RT-000777",
          "fault.description": "Wi-Fi drops every evening", "fault.symptoms": "wifi_drops"}
STAFF = {"channel": "hotline", "customer.name": "Wang Fang", "customer.tier": "vip", "customer.language": "zh",
         "product.model": "TV-55U8", "product.serial_number": "TV55-000123", "product.purchase_date": "2025-11-11",
         "fault.description": "The picture flickers", "fault.symptoms": "flickering", "expectation": "Repair"}


def test_the_public_form_shows_the_error_on_the_e_mail_field_and_stores_nothing(browser, services, deploy_fixture):
    deploy_fixture("simple")
    browser.get("/service/request")
    response = browser.post("/service/request", {**PUBLIC, "customer.email": HEADER_UNSAFE[0]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-customer-email-error"' in html and "Enter a valid e-mail address." in html
    assert stored(services) == 0


def test_staff_intake_shows_the_error_on_the_e_mail_field_and_stores_nothing(signed_in, services, deploy_fixture):
    deploy_fixture("simple")
    b = signed_in("agent")
    b.get("/requests/new")
    response = b.post("/requests/new", {**STAFF, "customer.email": HEADER_UNSAFE[1]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-customer-email-error"' in html
    assert stored(services) == 0
