"""The public request form: errors named on their fields in one round, and a customer correcting typos is not
locked out (only requests sent count against the low limit; every post against a much higher flood limit)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from engine.models import Instance

REPORT = {"customer.name": "Zhang Wei", "customer.email": "zw@example.com", "product.model": "RT-AX3000",
          "product.serial_number": "RT-000777", "fault.description": "Wi-Fi drops every evening",
          "fault.symptoms": "wifi_drops"}


@pytest.fixture
def form(app, browser, deploy_fixture):  # type: ignore[no-untyped-def]
    """The public form of the simple process, opened by an anonymous customer."""
    deploy_fixture("simple")
    browser.get("/service/request")
    return browser


def _instances(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Instance))


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_a_customer_correcting_typos_and_looking_for_answers_is_not_locked_out(app, form, services):
    """Given the limit of 5 requests per 10 minutes, when a customer looks for answers three times and fails
    validation seven times, then the request still goes through."""
    app.config["RATELIMIT_REQUEST"] = (5, 600)
    for _ in range(3):
        assert form.post("/service/request", {**REPORT, "look": "1"}).status_code == 200
    for _ in range(7):
        assert form.post("/service/request", {**REPORT, "customer.email": "not-an-address"}).status_code == 422
    assert _instances(services) == 0
    assert form.post("/service/request", REPORT).status_code == 200
    assert _instances(services) == 1


def test_requests_sent_beyond_the_limit_are_refused_above_the_form_keeping_what_was_typed(app, form, services):
    app.config["RATELIMIT_REQUEST"] = (2, 600)
    for _ in range(2):
        assert form.post("/service/request", REPORT).status_code == 200
    response = form.post("/service/request", {**REPORT, "fault.description": "Still drops at night"})
    page = _page(response)
    assert response.status_code == 429 and "too many attempts; wait 600 seconds and try again" in page
    assert "Still drops at night" in page and 'value="zw@example.com"' in page
    assert _instances(services) == 2


def test_a_flood_of_bad_posts_is_refused_by_its_own_higher_limit(app, form, services):
    app.config["RATELIMIT_REQUEST_POST"] = (4, 600)
    for _ in range(4):
        assert form.post("/service/request", {**REPORT, "customer.email": "x"}).status_code == 422
    assert form.post("/service/request", REPORT).status_code == 429
    assert _instances(services) == 0


@pytest.mark.parametrize(("language", "words"), [("en", "Give a phone number or an e-mail address."),
                                                 ("zh", "请填写电话或邮箱。")])
def test_neither_phone_nor_email_is_said_on_both_fields(form, services, language, words):
    form.get(f"/lang/{language}")
    form.get("/service/request")
    body = {k: v for k, v in REPORT.items() if k != "customer.email"}
    response = form.post("/service/request", body)
    page = _page(response)
    assert response.status_code == 422
    for name in ("f-customer-phone", "f-customer-email"):
        assert f'id="{name}-error">{words}</span>' in page, name
    assert "Some details are missing" not in page and "有信息缺失或相互矛盾" not in page
    assert _instances(services) == 0


def test_a_future_purchase_date_is_reported_with_the_other_errors_in_one_round(form, services):
    response = form.post("/service/request", {**REPORT, "customer.name": "", "product.purchase_date": "2099-01-01"})
    page = _page(response)
    assert response.status_code == 422
    assert "The purchase date cannot be in the future." in page and 'id="f-customer-name-error">Required.' in page
    assert 'value="2099-01-01"' in page
    assert _instances(services) == 0


@pytest.mark.parametrize(("language", "words"), [
    ("en", "not a phone number: 5 to 15 digits, with + ( ) - . or spaces only"),
    ("zh", "不是有效的电话号码：5 到 15 位数字，只能包含 + ( ) - . 或空格"),
])
def test_a_phone_of_letters_is_not_a_phone_number_on_the_public_form(form, services, language, words):
    form.get(f"/lang/{language}")
    form.get("/service/request")
    response = form.post("/service/request", {**REPORT, "customer.phone": "abc"})
    page = _page(response)
    assert response.status_code == 422 and f'id="f-customer-phone-error">{words}</span>' in page
    assert 'value="abc"' in page and "Too short" not in page and "太短" not in page


def test_a_phone_of_letters_is_not_a_phone_number_on_the_agents_intake(signed_in, services, deploy_fixture):
    from tests.web.test_intake import REQUEST

    deploy_fixture("simple")
    b = signed_in("agent")
    b.get("/lang/zh")
    b.get("/requests/new")
    response = b.post("/requests/new", dict(REQUEST, **{"customer.phone": "abc"}))
    page = _page(response)
    assert response.status_code == 422
    assert 'id="f-customer-phone-error">不是有效的电话号码：5 到 15 位数字，只能包含 + ( ) - . 或空格</span>' in page
    assert 'value="abc"' in page and _instances(services) == 0
