"""The public form on the real process: a number at once, triage of that ticket, articles before sending."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.models import Instance, WorkItem
from handlers.knowledge import Deflection
from handlers.outbox import Outbox
from handlers.ticketing import Ticket
from tests.web.conftest import complete
from tests.web_api.test_api_real_process import real  # noqa: F401 (the real bundle as the intake process)

pytestmark = pytest.mark.usefixtures("real")
REPORT = {"customer.name": "Zhang Wei", "customer.email": "zw@example.com", "customer.phone": "139 0000 2222",
          "product.model": "WM-F80", "product.serial_number": "WMF80-7777", "product.purchase_date": "2025-10-01",
          "fault.description": "The washer does not drain, water stays in the drum",
          "fault.symptoms": "not_draining"}
TRIAGE = {"channel": "web", "customer": {"name": "Zhang Wei", "email": "zw@example.com", "phone": "139 0000 2222",
                                         "tier": "normal", "language": "en", "preferred_channel": "email",
                                         "region": "east"},
          "product": {"model": "WM-F80", "serial_number": "WMF80-7777", "purchase_date": "2025-10-01"},
          "fault": {"category": "hardware", "description": "Does not drain, E21", "symptoms": ["not_draining"]},
          "expectation": "", "urgency": "medium", "impact": "high"}


def count(services, what) -> int:
    with services.db.transaction(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(what)))


def send(browser, **changes):
    browser.get("/service/request")
    return browser.post("/service/request", dict(REPORT, **changes))


def test_the_customer_gets_the_number_at_once_and_the_agent_triages_that_ticket(browser, services):
    # When a customer sends the form
    html = send(browser).get_data(as_text=True)

    # Then the page shows the ticket's number, and the acknowledgement with it is on its way
    number = re.search(r'id="ticket-number">(AS-\d{8}-\d{5})<', html).group(1)
    with services.db.transaction(write=False) as s:
        [mail] = s.scalars(select(Outbox).where(Outbox.ticket_number == number)).all()
        assert mail.milestone == "received" and number in mail.body
        [task] = s.scalars(select(WorkItem).where(WorkItem.business_key == number)).all()
    assert task.element_id == "register_request"

    # When the agent triages it
    complete(services, task.task_id, "agent", ("agent",), TRIAGE)

    # Then it is the same ticket, and no second one was opened
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(Ticket.number)).all() == [number]
        assert [w.element_id for w in s.scalars(select(WorkItem).where(WorkItem.business_key == number))] == [
            "respond_to_customer"]
    # and the status link on the page shows what comes next
    status = browser.get(re.search(r'id="status-link" href="([^"]+)"', html).group(1)).get_data(as_text=True)
    assert number in status and "We are working on your request" in status


@pytest.mark.parametrize(("field", "value", "error_id"), [
    ("product.purchase_date", "2099-01-01", "f-product-purchase_date-error"),
    ("product.model", "NO-SUCH-MODEL", "f-product-model-error"),
])
def test_a_bad_value_is_refused_on_its_field_and_nothing_is_opened(browser, services, field, value, error_id):
    response = send(browser, **{field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="{error_id}"' in html
    assert 'value="Zhang Wei"' in html  # what was typed stays
    assert count(services, Instance) == 0 and count(services, Ticket) == 0


def test_articles_for_the_product_and_words_are_suggested_before_sending(browser, services):
    # The script asks as the customer types
    found = browser.get("/service/suggestions?model=WM-F80&text=washer+does+not+drain").get_json()["articles"]
    assert found and "drain" in found[0]["title"].lower()
    assert browser.get("/service/suggestions?text=x").get_json() == {"articles": []}

    # Without JavaScript, "Look for answers first" shows them with the form as typed, and sends nothing
    browser.get("/service/request")
    html = browser.post("/service/request", dict(REPORT, look="1")).get_data(as_text=True)
    assert found[0]["title"] in html and 'value="Zhang Wei"' in html
    assert count(services, Instance) == 0


def test_this_solved_it_counts_a_deflection_that_agents_see(browser, services, signed_in):
    [article] = browser.get("/service/suggestions?model=WM-F80&text=does+not+drain").get_json()["articles"][:1]
    page = browser.get(article["url"]).get_data(as_text=True)
    assert "This solved it" in page
    response = browser.post(f"/service/articles/{article['id']}/solved", {"model": "WM-F80"})
    assert response.status_code == 200 and "No request was needed" in response.get_data(as_text=True)
    assert count(services, Deflection) == 1 and count(services, Instance) == 0
    staff = signed_in("agent").get("/requests/new").get_data(as_text=True)
    assert "1 customer(s) solved their problem with an article" in staff


def test_a_deflection_needs_a_published_article_and_a_csrf_token(browser, services):
    browser.get("/service/request")
    assert browser.post("/service/articles/99999/solved", {"model": ""}).status_code == 404
    assert browser.post("/service/articles/1/solved", {"model": ""}, csrf=False).status_code == 400
    assert count(services, Deflection) == 0


def test_a_second_report_about_the_same_washer_reaches_the_open_tickets_agents(browser, services):
    first = re.search(r'id="ticket-number">(AS-[\d-]+)<', send(browser).get_data(as_text=True)).group(1)
    html = send(browser, **{"fault.description": "Any news? It still does not drain"}).get_data(as_text=True)
    assert "We added your message to it" in html and first in html
    with services.db.transaction(write=False) as s:
        ready = sorted(w.element_id for w in s.scalars(select(WorkItem).where(WorkItem.business_key == first)))
    assert ready == ["register_request", "review_repeat_contact"] and count(services, Ticket) == 1
