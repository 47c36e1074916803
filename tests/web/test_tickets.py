"""The staff ticket page, quote documents and search; personal data only for the roles that need it."""

from __future__ import annotations

from datetime import date

import pytest

from engine.privacy import CATEGORIES, ROLE_SEES
from tests.web.conftest import CUSTOMER, STAFF_ROLES, TICKET, complete, open_tasks

REVEALING = [r for r in STAFF_ROLES if ROLE_SEES[r] >= CATEGORIES]
MASKING = [r for r in STAFF_ROLES if not ROLE_SEES[r]]


def test_ticket_page_shows_status_tasks_clocks_and_timeline(signed_in, repair_ticket):
    html = signed_in("agent").get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert TICKET in html and "Repair the device" in html and "Repair SLA" in html
    assert "Ticket opened" in html and "Aurora X1" in html and "SN-0042" in html
    assert "Li &lt;b&gt;Lei&lt;/b&gt;" in html


@pytest.mark.parametrize("role", REVEALING)
def test_contact_data_is_shown_to_roles_that_need_it(signed_in, repair_ticket, role):
    html = signed_in(role).get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert CUSTOMER["phone"] in html and CUSTOMER["email"] in html


@pytest.mark.parametrize("role", MASKING)
def test_contact_data_is_masked_for_other_roles(signed_in, repair_ticket, role):
    html = signed_in(role).get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert CUSTOMER["phone"] not in html and CUSTOMER["email"] not in html and "Lei" not in html
    assert "***8000" in html and "l***@example.com" in html and "(masked)" in html


def test_unknown_ticket_is_not_found(signed_in):
    assert signed_in("agent").get("/tickets/AS-19990101-00001").status_code == 404


def test_ticket_pages_need_a_staff_role(app, database, browser):
    from engine.identity import create_user
    from tests.web.conftest import Browser

    with database.transaction() as s:
        create_user(s, "nobody", "correct-horse-1", [])
    b = Browser(app.test_client())
    b.login("nobody")
    assert b.get(f"/tickets/{TICKET}").status_code == 403
    assert b.get("/tickets?q=AS").status_code == 403


def test_the_timeline_names_who_did_what(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    complete(services, task.task_id, "technician", ("technician",),
             {"work_done": "Replaced the panel", "labour_hours": 1, "outcome": "repaired"})
    html = signed_in("qa").get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert "Repair the device" in html and "technician" in html and "Replaced the panel" in html


# --- search -------------------------------------------------------------------------------
@pytest.fixture
def registered(database, repair_ticket):
    """The ticket as the ticketing handler records it (customer, product, ticket rows)."""
    from engine import clock
    from handlers.ticketing import Customer, Product, Ticket

    now = clock.now()
    with database.transaction() as s:
        customer = Customer(name="Li Lei", phone="13800138000", email="li.lei@example.com", tier="vip",
                            language="zh", preferred_channel="sms", created_at=now, updated_at=now)
        s.add(customer)
        s.flush()
        product = Product(customer_id=customer.id, model="TV-55U8", serial_number="SN-0042",
                          purchase_date=date(2025, 6, 1), created_at=now)
        s.add(product)
        s.flush()
        s.add(Ticket(number=TICKET, customer_id=customer.id, product_id=product.id, channel="hotline",
                     fault={"description": "flickers"}, status="open", instance_id=1, opened_at=now))
    return TICKET


@pytest.mark.parametrize("query", ["13800138000", "+86 138 0013 8000", "LI.LEI@example.com", "sn-0042", "li lei",
                                   "AS-20260302"])
def test_agents_find_tickets_by_contact_serial_name_or_number(signed_in, registered, query):
    html = signed_in("agent").get(f"/tickets?q={query}").get_data(as_text=True)
    assert f'href="/tickets/{TICKET}"' in html and "Li Lei" in html


def test_an_exact_ticket_number_opens_the_ticket(signed_in, registered):
    assert signed_in("agent").get(f"/tickets?q={TICKET}").headers["Location"] == f"/tickets/{TICKET}"


@pytest.mark.parametrize("role", MASKING)
def test_other_roles_search_by_number_or_serial_only_and_see_masked_names(signed_in, registered, role):
    b = signed_in(role)
    assert "No ticket found." in b.get("/tickets?q=13800138000").get_data(as_text=True)
    html = b.get("/tickets?q=SN-0042").get_data(as_text=True)
    assert TICKET in html and "Li Lei" not in html and "L***" in html


def test_empty_and_missing_searches(signed_in, registered):
    b = signed_in("agent")
    assert "No ticket found." not in b.get("/tickets").get_data(as_text=True)
    assert "No ticket found." in b.get("/tickets?q=nothing-like-this").get_data(as_text=True)


def test_quote_document_is_served_to_staff_only(signed_in, browser, database, registered):
    from decimal import Decimal

    from engine import clock
    from handlers.quote import Quote

    money = {k: Decimal("10.00") for k in ("parts_total", "labour_total", "callout_fee", "total", "covered",
                                           "customer_pays")}
    with database.transaction() as s:
        quote = Quote(ticket_number=TICKET, solution="repair", coverage="none", currency="CNY", lines=[],
                      document_html="<h1>Quote 1</h1>", valid_until=clock.now(), created_at=clock.now(), **money)
        s.add(quote)
        s.flush()
        quote_id = quote.id
    b = signed_in("qa")
    response = b.get(f"/tickets/{TICKET}/quote/{quote_id}")
    assert response.status_code == 200 and "<h1>Quote 1</h1>" in response.get_data(as_text=True)
    assert b.get(f"/tickets/{TICKET}/quote/{quote_id + 1}").status_code == 404
    assert browser.get(f"/tickets/{TICKET}/quote/{quote_id}").status_code == 302


def test_repeat_contacts_are_listed_on_the_ticket(signed_in, registered, database):
    from engine import clock
    from handlers.ticketing import Contact, Ticket

    with database.transaction() as s:
        ticket = s.query(Ticket).filter_by(number=TICKET).one()
        for channel, text in (("hotline", "flickers"), ("chat", "still <b>flickering</b>, any news?")):
            s.add(Contact(ticket_id=ticket.id, channel=channel, fault={"description": text}, instance_id=1,
                          received_at=clock.now()))
    html = signed_in("qa").get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert "Contacts" in html and "still &lt;b&gt;flickering&lt;/b&gt;, any news?" in html
    assert 'href="/audit/instances/' not in html  # QA may not read the audit trail, supervisors may
    assert 'href="/audit/instances/' in signed_in("supervisor").get(f"/tickets/{TICKET}").get_data(as_text=True)
