"""Customer records: find a customer, read their contact (masked by role), products, tickets and history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import Instance
from tests.web.conftest import TICKET
from tests.web.test_ticket_workspace_actions import record_customer


@pytest.fixture
def customer_id(database, repair_ticket):
    """Li Lei's record with her Aurora X1 and the repair ticket about it, first reported on the hotline."""
    from engine import clock
    from handlers.ticketing import Contact

    with database.transaction() as s:
        customer, ticket = record_customer(s)
        instance_id = s.scalar(select(Instance.id).where(Instance.business_key == TICKET))
        s.add(Contact(ticket_id=ticket, channel="hotline", fault={"description": "Li Lei says it flickers"},
                      instance_id=instance_id, received_at=clock.now()))
        return customer


def test_the_customer_record_lists_contact_products_tickets_and_history(signed_in, customer_id):
    agent = signed_in("agent")
    agent.get(f"/tickets/{TICKET}")
    agent.post(f"/tickets/{TICKET}/notes", {"note": "Prefers calls after 18:00"})
    html = agent.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "Li Lei" in html and "13800138000" in html and "li.lei@example.com" in html
    assert "Aurora X1" in html and "SN-0042" in html
    assert f'href="/tickets/{TICKET}"' in html
    assert "Prefers calls after 18:00" in html and "Li Lei says it flickers" in html


def test_the_ticket_page_links_to_the_customer_record(signed_in, customer_id):
    html = signed_in("agent").get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert f'href="/customers/{customer_id}"' in html


@pytest.mark.parametrize("role", ["qa", "auditor", "admin"])
def test_roles_that_do_not_see_customers_data_read_it_masked(signed_in, customer_id, role):
    html = signed_in(role).get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "13800138000" not in html and "li.lei@example.com" not in html and "Li Lei" not in html
    assert "***8000" in html and "(masked)" in html and TICKET in html


def test_the_technician_sees_name_phone_and_address_but_not_the_e_mail(signed_in, customer_id):
    html = signed_in("technician").get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "13800138000" in html and "Li Lei" in html and "li.lei@example.com" not in html


@pytest.mark.parametrize("query", ["li lei", "13800138000", "+86 138 0013 8000", "li.lei@example.com", "sn-0042",
                                   TICKET])
def test_an_agent_finds_the_customer_by_name_phone_e_mail_serial_or_ticket(signed_in, customer_id, query):
    html = signed_in("agent").get("/customers", query_string={"q": query}).get_data(as_text=True)
    assert f'href="/customers/{customer_id}"' in html and "1 customers" in html


def test_roles_that_see_no_contact_data_cannot_find_a_customer_by_it(signed_in, customer_id):
    qa = signed_in("qa")
    assert "0 customers" in qa.get("/customers?q=13800138000").get_data(as_text=True)
    assert "1 customers" in qa.get("/customers?q=SN-0042").get_data(as_text=True)


def test_the_customer_list_shows_everybody_without_a_search(signed_in, customer_id):
    html = signed_in("agent").get("/customers").get_data(as_text=True)
    assert "Li Lei" in html and "1 customers" in html


def test_an_unknown_customer_is_not_found(signed_in, customer_id):
    assert signed_in("agent").get("/customers/9999").status_code == 404


def test_customer_pages_need_a_staff_role(app, database, browser, customer_id):
    from engine.identity import create_user

    with database.transaction() as s:
        create_user(s, "nobody", "correct-horse-1", [])
    browser.login("nobody")
    assert browser.get("/customers").status_code == 403
    assert browser.get(f"/customers/{customer_id}").status_code == 403


def test_the_ticket_page_lists_the_customers_earlier_tickets(signed_in, database, customer_id):
    from engine import clock
    from handlers.ticketing import Product, Ticket

    with database.transaction() as s:
        product = s.scalars(select(Product)).one()
        s.add(Ticket(number="AS-20250101-00009", customer_id=customer_id, product_id=product.id, channel="web",
                     fault={"description": "no power"}, status="closed", outcome="resolved", instance_id=99,
                     opened_at=clock.now().replace(year=2025)))
    html = signed_in("agent").get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert "Earlier tickets" in html and 'href="/tickets/AS-20250101-00009"' in html
