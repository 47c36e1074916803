"""A ticket's task page lists the customer's earlier tickets as the ticket page does: number
(a link to its record), state, product and when, newest first; no contact details in it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web.conftest import TICKET, open_tasks
from tests.web.test_ticket_workspace_actions import record_customer

EARLIER = "AS-20250101-00009"


@pytest.fixture
def task_id(database, services, repair_ticket) -> str:
    """The repair ticket's open task; Li Lei's record, her product and the ticket's row."""
    with database.transaction() as s:
        record_customer(s)
    return open_tasks(services, TICKET)[0].task_id


def add_earlier(database) -> None:
    from engine import clock
    from handlers.ticketing import Product, Ticket

    with database.transaction() as s:
        product = s.scalars(select(Product)).one()
        s.add(Ticket(number=EARLIER, customer_id=product.customer_id, product_id=product.id, channel="web",
                     fault={"description": "no power"}, status="closed", outcome="resolved", instance_id=99,
                     opened_at=clock.now().replace(year=2025)))


def earlier_panel(html: str) -> str:
    found = re.search(r'<section class="panel" id="earlier">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize("role", ["technician", "supervisor"])
def test_the_task_page_lists_the_customers_earlier_tickets(database, signed_in, task_id, role):
    # Given Li Lei had a ticket before this one
    add_earlier(database)
    # When a member of staff opens a task of the current ticket
    response = signed_in(role).get(f"/tasks/{task_id}")
    assert response.status_code == 200
    panel = earlier_panel(response.get_data(as_text=True))
    # Then the earlier ticket is listed with a link to its record and the product, without contact details
    assert "Earlier tickets" in panel and f'href="/tickets/{EARLIER}"' in panel and "Aurora X1 SN-0042" in panel
    assert TICKET not in panel
    assert "13800138000" not in panel and "li.lei@example.com" not in panel and "Li Lei" not in panel


def test_the_list_reads_in_chinese(database, signed_in, task_id):
    add_earlier(database)
    agent = signed_in("technician")
    agent.get("/lang/zh")
    panel = earlier_panel(agent.get(f"/tasks/{task_id}").get_data(as_text=True))
    assert EARLIER in panel and "Earlier tickets" not in panel


def test_a_first_ticket_shows_no_earlier_list(signed_in, task_id):
    html = signed_in("technician").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="earlier"' not in html
