"""The customer's status page: what comes next, and adding information, a photo, another window, cancelling."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import WorkItem
from handlers import dispatch
from handlers.attachments import Attachment
from handlers.outbox import Outbox
from handlers.ticketing import Ticket
from tests.web.test_selfservice import quoted, status_page  # noqa: F401 (the simple process waiting for a quote answer)
from tests.web_api.test_api_real_process import real  # noqa: F401 (the real bundle as the intake process)

REPORT = {"customer.name": "Zhang Wei", "customer.email": "zw@example.com", "product.model": "WM-F80",
          "product.serial_number": "WMF80-4242", "fault.description": "The drum does not turn",
          "fault.symptoms": "not_draining"}
PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       + b"\x90wS\xde" + b"\x00" * 32)


@pytest.fixture
def arrived(real, browser):  # noqa: F811
    """A request sent on the web form; return its number and its status page's address."""
    browser.get("/service/request")
    html = browser.post("/service/request", REPORT).get_data(as_text=True)
    number = re.search(r'id="ticket-number">(AS-[\d-]+)<', html).group(1)
    return number, re.search(r'id="status-link" href="([^"]+)"', html).group(1)


def ready(services, number):
    with services.db.transaction(write=False) as s:
        return sorted(w.element_id for w in s.scalars(select(WorkItem).where(WorkItem.business_key == number)))


def act(browser, link, action, data, **kwargs):
    browser.get(link)
    return browser.post(f"{link}/{action}", data, **kwargs)


def test_the_page_says_what_comes_next_and_added_information_reaches_the_agents(browser, services, arrived):
    number, link = arrived
    assert "An agent is checking your request" in browser.get(link).get_data(as_text=True)

    # An empty message is refused on its field and sends nothing
    empty = act(browser, link, "info", {"text": "  "})
    assert empty.status_code == 422 and 'id="text-error"' in empty.get_data(as_text=True)
    assert ready(services, number) == ["register_request"]

    # When the customer adds information, an agent has it to review
    response = act(browser, link, "info", {"text": "It also makes a loud noise"})
    assert response.status_code == 200 and "an agent will read it" in response.get_data(as_text=True)
    assert ready(services, number) == ["register_request", "review_repeat_contact"]


def test_a_photo_is_kept_with_the_ticket_and_a_program_is_refused(browser, services, arrived):
    number, link = arrived
    refused = act(browser, link, "photo", {"photo": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 64),
                                                     "photo.jpg")})
    assert refused.status_code == 422 and 'id="photo-error"' in refused.get_data(as_text=True)
    kept = act(browser, link, "photo", {"photo": (io.BytesIO(PNG), "drum.png")})
    assert kept.status_code == 200 and "We added your photo" in kept.get_data(as_text=True)
    with services.db.transaction(write=False) as s:
        [row] = s.scalars(select(Attachment).where(Attachment.ticket_number == number)).all()
    assert (row.content_type, row.uploaded_by, row.source) == ("image/png", "customer", "customer")


def test_the_customer_cancels_with_a_reason_and_the_process_stops(browser, services, arrived):
    number, link = arrived
    missing = act(browser, link, "cancel", {"reason": ""})
    assert missing.status_code == 422 and 'id="reason-error"' in missing.get_data(as_text=True)
    assert ready(services, number) == ["register_request"]

    response = act(browser, link, "cancel", {"reason": "Fixed it myself"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Your request is cancelled" in html
    assert ready(services, number) == [] and 'id="cancel-request"' not in html
    with services.db.transaction(write=False) as s:
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).one()
    assert (ticket.status, ticket.outcome) == ("closed", "cancelled")
    again = act(browser, link, "info", {"text": "hello?"})
    assert again.status_code == 422 and "can no longer be changed" in again.get_data(as_text=True)


def _visit(services, number):
    """Book tech.wang's first free window for the ticket, as the dispatch handler does."""
    with services.db.transaction() as s:
        tech = s.get(dispatch.Technician, "tech.wang")
        start, end = dispatch.next_window(tech, [], clock.now())
        s.add(dispatch.Assignment(ticket_number=number, technician="tech.wang", priority="medium", starts_at=start,
                                  ends_at=end, reason="test", created_at=clock.now()))
    return start, end


def test_the_customer_sees_the_appointment_and_moves_it_to_a_free_window(browser, services, arrived):
    number, link = arrived
    booked = _visit(services, number)
    html = browser.get(link).get_data(as_text=True)
    assert 'id="appointment"' in html and "Wang Lei" in html
    offered = re.findall(r'name="window" value="([^"]+)"', html)
    assert offered and f"{booked[0].isoformat()}|{booked[1].isoformat()}" not in offered

    response = act(browser, link, "window", {"window": offered[1]})
    assert response.status_code == 200 and "Your appointment is now on" in response.get_data(as_text=True)
    with services.db.transaction(write=False) as s:
        visit = s.scalars(select(dispatch.Assignment).where(dispatch.Assignment.ticket_number == number)).one()
        notices = s.scalars(select(Outbox.milestone).where(Outbox.ticket_number == number)).all()
    start, end = (datetime.fromisoformat(t) for t in offered[1].split("|"))
    assert (visit.starts_at, visit.ends_at) == (start, end)
    assert "scheduled" in notices


@pytest.mark.parametrize(("window", "says"), [
    ("2026-03-04T12:00:00+08:00|2026-03-04T10:00:00+08:00", "must end after it starts"),
    ("2026-03-08T03:00:00+08:00|2026-03-08T05:00:00+08:00", "Choose one of the offered times"),
    ("tomorrow", "Choose one of the offered times"),
])
def test_a_bad_window_is_refused_on_its_field_and_the_visit_stays(browser, services, arrived, window, says):
    number, link = arrived
    booked = _visit(services, number)
    response = act(browser, link, "window", {"window": window})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="window-error"' in html and says in html
    with services.db.transaction(write=False) as s:
        visit = s.scalars(select(dispatch.Assignment).where(dispatch.Assignment.ticket_number == number)).one()
    assert (visit.starts_at, visit.ends_at) == booked


def test_status_actions_need_a_status_link_and_a_csrf_token(app, browser, services, arrived):
    from web import tokens

    number, link = arrived
    assert act(browser, link, "info", {"text": "hi"}, csrf=False).status_code == 400
    assert browser.post("/service/status/forged/info", {"text": "hi"}).status_code == 404
    with app.test_request_context():
        quote_link = tokens.sign(number, "quote_response")
    assert browser.post(f"/service/status/{quote_link}/info", {"text": "hi"}).status_code == 404
    assert act(browser, link, "delete", {}).status_code == 404
    assert ready(services, number) == ["register_request"]


def test_status_actions_are_rate_limited_like_the_lookup(app, browser, arrived):
    _number, link = arrived
    app.config["RATELIMIT_STATUS"] = (1, 300)
    assert act(browser, link, "info", {"text": "first"}).status_code == 200
    assert act(browser, link, "info", {"text": "second"}).status_code == 429


def test_the_price_is_shown_before_the_customer_is_asked_to_accept(browser, quoted):  # noqa: F811
    html = status_page(browser).get_data(as_text=True)
    assert "Accept or decline the quote" in html
    price = re.search(r'id="price">(.*?)</p>', html, re.S).group(1)
    assert "650" in price and "CNY" in price


def test_a_chinese_customer_reads_the_technicians_chinese_name_on_the_page_and_in_the_notice(browser, services, real):  # noqa: F811
    # Given a request sent on the Chinese web form (a Chinese customer) with tech.wang (王磊) booked
    browser.get("/lang/zh")
    browser.get("/service/request")
    html = browser.post("/service/request", REPORT).get_data(as_text=True)
    number = re.search(r'id="ticket-number">(AS-[\d-]+)<', html).group(1)
    link = re.search(r'id="status-link" href="([^"]+)"', html).group(1)
    _visit(services, number)

    # The status page names the technician as the catalogue writes him in Chinese
    page = browser.get(link).get_data(as_text=True)
    appointment = page[page.index('id="appointment"'):][:1500]
    assert "王磊" in appointment and "Wang Lei" not in appointment

    # and the notice of a moved visit says 王磊 too
    offered = re.findall(r'name="window" value="([^"]+)"', page)
    assert act(browser, link, "window", {"window": offered[0]}).status_code == 200
    with services.db.transaction(write=False) as s:
        body = s.scalars(select(Outbox.body).where(Outbox.ticket_number == number,
                                                   Outbox.milestone == "scheduled")).one()
    assert "服务工程师：王磊" in body
