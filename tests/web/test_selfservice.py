"""Customers without a login: report a problem, check status, answer through signed links."""

from __future__ import annotations

import re

import pytest

from engine.message_contracts import Sender
from tests.web.conftest import CUSTOMER, TICKET, complete, open_tasks

REPORT = {"customer.name": "Zhang Wei", "customer.email": "zw@example.com", "product.model": "RT-AX3000",
          "product.serial_number": "RT-000777", "fault.description": "Wi-Fi drops every evening",
          "fault.symptoms": "wifi_drops"}


@pytest.fixture
def quoted(services, repair_ticket):
    """The repair waits for the customer's answer to the quote."""
    [repair] = open_tasks(services)
    complete(services, repair.task_id, "technician", ("technician",), {
        "work_done": "Found a broken panel", "labour_hours": 2, "outcome": "repaired",
        "quote": {"total": 800, "customer_pays": 650, "currency": "CNY"}})
    [approve] = open_tasks(services)
    complete(services, approve.task_id, "supervisor", ("supervisor",), {"approved": True})
    return TICKET


def status_page(browser, ticket=TICKET, contact=CUSTOMER["email"]):
    browser.get("/service/status")
    return browser.post("/service/status", {"ticket": ticket, "contact": contact})


def answer_link(html: str) -> str:
    match = re.search(r'href="(/service/respond/[^"]+)"', html)
    assert match, "no answer link on the status page"
    return match.group(1)


def test_home_and_forms_need_no_login(browser):
    for url in ("/service/", "/service/request", "/service/status"):
        assert browser.get(url).status_code == 200, url


def test_a_customer_reports_a_problem_and_gets_a_ticket_on_the_web_channel(browser, services, deploy_fixture):
    deploy_fixture("simple")
    browser.get("/service/request")
    response = browser.post("/service/request", REPORT)
    assert response.status_code == 200 and "we have your request" in response.get_data(as_text=True)
    from readmodels import find_ticket, instance_data

    with services.db.transaction(write=False) as s:
        data = instance_data(s, services.runtime.specs, find_ticket(s, "1"))
        assert find_ticket(s, "1").started_by == "customer"
    assert data["channel"] == "web" and data["customer"]["tier"] == "normal"


def test_the_public_form_has_no_internal_fields_and_checks_input(browser, services):
    html = browser.get("/service/request").get_data(as_text=True)
    assert 'name="channel"' not in html and 'name="customer.tier"' not in html
    response = browser.post("/service/request", dict(REPORT, **{"customer.email": "not-an-email"}))
    assert response.status_code == 422 and 'value="not-an-email"' in response.get_data(as_text=True)


def test_reporting_without_csrf_token_is_refused(browser):
    assert browser.post("/service/request", REPORT, csrf=False).status_code == 400


@pytest.mark.parametrize("contact", [CUSTOMER["email"], "LI.LEI@EXAMPLE.COM", "13800138000", "+86 138-0013-8000"])
def test_status_shows_plain_milestones_for_the_right_contact(browser, repair_ticket, contact):
    response = status_page(browser, contact=contact)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We received your request" in html and "In progress" in html
    assert "Repair the device" not in html and "technician" not in html and "Aurora X1" in html


@pytest.mark.parametrize("contact", ["other@example.com", "13800138001", "", "8000"])
def test_status_refuses_a_wrong_contact_without_telling_which_part_is_wrong(browser, repair_ticket, contact):
    response = status_page(browser, contact=contact)
    assert response.status_code == 404
    assert "We found no request" in response.get_data(as_text=True)


def test_status_of_an_unknown_ticket_is_not_found(browser, repair_ticket):
    assert status_page(browser, ticket="AS-19990101-00001").status_code == 404


def test_status_lookups_are_rate_limited(app, browser, repair_ticket):
    app.config["RATELIMIT_STATUS"] = (2, 300)
    for _ in range(2):
        assert status_page(browser, contact="guess@example.com").status_code == 404
    assert status_page(browser).status_code == 429


def test_status_lookup_without_csrf_token_is_refused(browser, repair_ticket):
    response = browser.post("/service/status", {"ticket": TICKET, "contact": CUSTOMER["email"]}, csrf=False)
    assert response.status_code == 400


def test_the_customer_accepts_the_quote_through_the_link_on_the_status_page(browser, services, quoted):
    html = status_page(browser).get_data(as_text=True)
    assert "Waiting for your answer" in html and "Accept or decline the quote" in html
    link = answer_link(html)
    page = browser.get(link).get_data(as_text=True)
    assert "650" in page and "Do you accept the quote?" in page
    response = browser.post(link, {"accepted": "true", "comment": "Go ahead"})
    assert response.status_code == 200 and "Thank you for your answer." in response.get_data(as_text=True)
    html = status_page(browser).get_data(as_text=True)
    assert "You answered the quote" in html and "Confirm that the problem is solved" in html
    assert browser.get(link).status_code == 410  # answered: the link is spent


def test_an_answer_needs_its_required_field(browser, quoted):
    link = answer_link(status_page(browser).get_data(as_text=True))
    browser.get(link)
    response = browser.post(link, {"comment": "hmm"})
    assert response.status_code == 422 and ">hmm</textarea>" in response.get_data(as_text=True)


def test_answering_without_csrf_token_is_refused(browser, quoted):
    link = answer_link(status_page(browser).get_data(as_text=True))
    assert browser.post(link, {"accepted": "true"}, csrf=False).status_code == 400


@pytest.mark.parametrize("token", ["garbage", "eyJ0IjoiQVMtMSIsIm0iOiJxdW90ZV9yZXNwb25zZSJ9.forged.sig"])
def test_forged_links_are_not_found(browser, token):
    assert browser.get(f"/service/respond/{token}").status_code == 404


def test_a_link_for_another_message_is_not_found(app, browser, quoted):
    from web import tokens

    with app.test_request_context():
        token = tokens.sign(TICKET, "customer_cancel")
    assert browser.get(f"/service/respond/{token}").status_code == 404


def test_links_expire(app, browser, quoted):
    from web import tokens

    with app.test_request_context():
        token = tokens.sign(TICKET, "quote_response")
    app.config["CUSTOMER_LINK_DAYS"] = -1
    assert browser.get(f"/service/respond/{token}").status_code == 404


def test_confirmation_and_survey_close_the_case(app, browser, services, quoted):
    from web import tokens

    with app.test_request_context():
        links = {m: tokens.action_url(TICKET, m) for m in ("quote_response", "customer_confirmation",
                                                           "survey_answered")}
    browser.get(links["quote_response"])
    browser.post(links["quote_response"], {"accepted": "true"})
    browser.get(links["customer_confirmation"])
    assert browser.post(links["customer_confirmation"], {"solved": "true"}).status_code == 200
    html = browser.get(links["survey_answered"]).get_data(as_text=True)
    assert 'name="csat" value="5"' in html and 'name="nps" value="10"' in html
    assert browser.post(links["survey_answered"], {"csat": "9", "nps": "10"}).status_code == 422
    assert browser.post(links["survey_answered"], {"csat": "5", "nps": "10"}).status_code == 200
    html = status_page(browser).get_data(as_text=True)
    assert "Completed" in html and "You rated our service" in html


def test_survey_links_of_the_survey_handler_work(browser, services, quoted, clock):
    from datetime import timedelta

    from handlers.survey import make_survey_token

    token = make_survey_token(TICKET, clock.now() + timedelta(days=14))
    assert browser.get(f"/s/{token}").status_code == 410  # the case does not wait for the survey yet
    assert browser.get("/s/forged-token").status_code == 404
    with services.db.transaction() as s:
        services.runtime.deliver_message(s, "quote_response", TICKET, {"accepted": True, "comment": ""},
                                         sender=Sender.customer())
        services.runtime.deliver_message(s, "customer_confirmation", TICKET, {"solved": True, "comment": ""},
                                         sender=Sender.customer())
    assert 'name="csat"' in browser.get(f"/s/{token}").get_data(as_text=True)
    assert browser.post(f"/s/{token}", {"csat": "4", "nps": "8", "comment": "quick"}).status_code == 200
    assert open_tasks(services) == [] and browser.get(f"/s/{token}").status_code == 410


def test_the_customer_sees_the_quote_document_through_the_quote_link(browser, services, repair_ticket, database):
    from decimal import Decimal

    from engine import clock
    from handlers.quote import Quote

    money = {k: Decimal("650.00") for k in ("parts_total", "labour_total", "callout_fee", "total", "covered",
                                            "customer_pays")}
    with database.transaction() as s:
        quote = Quote(ticket_number=TICKET, solution="repair", coverage="none", currency="CNY", lines=[],
                      document_html="<h1>Quote for Li Lei</h1>", valid_until=clock.now(), created_at=clock.now(),
                      **money)
        s.add(quote)
        s.flush()
        quote_id = quote.id
    [repair] = open_tasks(services)
    complete(services, repair.task_id, "technician", ("technician",), {
        "work_done": "Found a broken panel", "labour_hours": 2, "outcome": "repaired",
        "quote": {"quote_id": quote_id, "total": 650, "customer_pays": 650, "currency": "CNY"}})
    [approve] = open_tasks(services)
    complete(services, approve.task_id, "supervisor", ("supervisor",), {"approved": True})
    link = answer_link(status_page(browser).get_data(as_text=True))
    assert f'href="{link}/quote"' in browser.get(link).get_data(as_text=True)
    response = browser.get(f"{link}/quote")
    assert response.status_code == 200 and "<h1>Quote for Li Lei</h1>" in response.get_data(as_text=True)


def test_quote_documents_need_a_quote_link_and_a_quote(app, browser, quoted):
    from web import tokens

    with app.test_request_context():
        confirm = tokens.action_url(TICKET, "customer_confirmation")
        quote = tokens.action_url(TICKET, "quote_response")
    assert browser.get(f"{confirm}/quote").status_code == 404
    assert browser.get(f"{quote}/quote").status_code == 404  # the fixture's quote has no document
    assert browser.get("/service/respond/forged/quote").status_code == 404


def test_reporting_is_rate_limited(app, browser, deploy_fixture):
    deploy_fixture("simple")
    app.config["RATELIMIT_REQUEST"] = (1, 600)
    browser.get("/service/request")
    assert browser.post("/service/request", REPORT).status_code == 200
    assert browser.post("/service/request", REPORT).status_code == 429


def test_survey_answers_through_handler_links_need_a_csrf_token(browser, services, quoted, clock):
    from datetime import timedelta

    from handlers.survey import make_survey_token

    token = make_survey_token(TICKET, clock.now() + timedelta(days=14))
    with services.db.transaction() as s:
        services.runtime.deliver_message(s, "quote_response", TICKET, {"accepted": True, "comment": ""},
                                         sender=Sender.customer())
        services.runtime.deliver_message(s, "customer_confirmation", TICKET, {"solved": True, "comment": ""},
                                         sender=Sender.customer())
    assert browser.post(f"/s/{token}", {"csat": "4", "nps": "8"}, csrf=False).status_code == 400
    browser.get(f"/s/{token}")
    assert browser.post(f"/s/{token}", {"csat": "4"}).status_code == 422


def test_agents_find_the_customers_answer_link_on_the_ticket_page(signed_in, browser, quoted):
    html = signed_in("agent").get(f"/tickets/{TICKET}").get_data(as_text=True)
    link = re.search(r'value="http://127\.0\.0\.1:5000(/service/respond/[^"]+)"', html).group(1)
    assert "Accept or decline the quote" in browser.get(link).get_data(as_text=True)
    assert "/service/respond/" not in signed_in("qa").get(f"/tickets/{TICKET}").get_data(as_text=True)
