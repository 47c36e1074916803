"""Caller lookup on the agent's intake form: the caller's phone or e-mail finds the customer record,
pre-fills the form, shows the address, the products they had and their open tickets."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from handlers.ticket_notes import CustomerAddress
from handlers.ticketing import Customer, Product
from tests.process.test_journey_arrival import WEB_FORM


@pytest.fixture
def caller(app, desk, database) -> str:
    """Li Na's web request about her WM-F80 washer, triaged (region east), her address on file; the intake
    page shows the real process's registration form."""
    app.config["INTAKE_PROCESS"] = "after_sales"
    case = desk.open_case(**copy.deepcopy(WEB_FORM))
    case.register(channel="web")
    with database.transaction() as s:
        customer = s.scalars(select(Customer)).one()
        s.add(CustomerAddress(customer_id=customer.id, address="上海市浦东新区世纪大道 100 号",
                              updated_at=datetime(2026, 3, 2, 9, tzinfo=UTC), updated_by="ann"))
    return case.ticket_number


def value_of(html: str, name: str) -> str | None:
    """Return the value an input of the form shows, the checked radio's or the selected option's."""
    text = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    if text and 'type="radio"' not in text.group(0):
        return text.group(1)
    radio = re.search(rf'<input type="radio" name="{re.escape(name)}" value="([^"]*)" checked', html)
    if radio:
        return radio.group(1)
    select_ = re.search(rf'<select[^>]*name="{re.escape(name)}".*?</select>', html, re.S)
    if select_:
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select_.group(0))
        return chosen.group(1) if chosen else None
    return None


@pytest.mark.parametrize("typed", ["138 0000 0001", "+86 138-0000-0001", "LI.NA@example.com"])
def test_a_known_caller_pre_fills_the_form_and_lists_address_products_and_open_tickets(signed_in, caller, typed):
    # When the agent looks the caller up by phone (any spelling) or e-mail (any case)
    response = signed_in("agent").get("/requests/new", query_string={"lookup": typed})
    html = response.get_data(as_text=True)

    # Then the form holds her record: contact, language, channel, tier, region and her washer
    assert response.status_code == 200 and 'id="caller-known"' in html
    assert value_of(html, "customer.name") == "Li Na"
    assert value_of(html, "customer.email") == "li.na@example.com"
    assert value_of(html, "customer.phone") == "13800000001"
    assert value_of(html, "customer.language") == "en"  # as the triage recorded it
    assert value_of(html, "customer.region") == "east"
    assert value_of(html, "product.model") == "WM-F80"
    assert value_of(html, "product.serial_number") == "WMF80-0001"
    assert value_of(html, "product.purchase_date") == "2025-09-01"
    # and the panel shows her address and her open ticket, so the call goes there
    assert "上海市浦东新区世纪大道 100 号" in html
    assert f'href="/tickets/{caller}#call"' in html and 'id="caller-open"' in html


def test_the_caller_picks_another_of_her_products(signed_in, database, caller):
    with database.transaction() as s:
        customer = s.scalars(select(Customer)).one()
        fridge = Product(customer_id=customer.id, model="RF-500", serial_number="RF500-0007",
                         purchase_date=date(2024, 5, 1), created_at=datetime(2024, 5, 2, tzinfo=UTC))
        s.add(fridge)
        s.flush()
        fridge_id = fridge.id
    agent = signed_in("agent")
    html = agent.get("/requests/new", query_string={"lookup": "13800000001"}).get_data(as_text=True)
    assert value_of(html, "product.serial_number") == "WMF80-0001"  # the newest first
    assert f"product={fridge_id}" in html
    html = agent.get("/requests/new", query_string={"lookup": "13800000001", "product": fridge_id}).get_data(
        as_text=True)
    assert value_of(html, "product.serial_number") == "RF500-0007"
    assert value_of(html, "product.purchase_date") == "2024-05-01"


def test_a_caller_nobody_knows_gets_a_clear_message_and_an_empty_form(signed_in, caller):
    response = signed_in("agent").get("/requests/new", query_string={"lookup": "139 1234 5678"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="caller-unknown"' in html
    assert "No customer has this phone number or e-mail address." in html
    assert value_of(html, "customer.name") in (None, "") and "Li Na" not in html
    assert value_of(html, "customer.tier") == "normal"


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Enter the caller's phone number or e-mail address."),
    ("call me", "not a phone number"),
    ("li.na@", "not a valid e-mail address"),
])
def test_a_lookup_that_is_not_a_phone_or_e_mail_is_refused_on_its_field(signed_in, caller, typed, message):
    response = signed_in("agent").get("/requests/new", query_string={"lookup": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-lookup"' in html and message in html.replace("&#39;", "'")
    assert "Li Na" not in html


def test_the_script_gets_the_form_values_and_the_panel(signed_in, caller):
    response = signed_in("agent").get("/requests/lookup", query_string={"lookup": "li.na@example.com"})
    answer = response.get_json()
    assert response.status_code == 200 and answer["found"] is True
    assert answer["values"]["customer.name"] == "Li Na" and answer["values"]["product.model"] == "WM-F80"
    assert caller in answer["panel"] and 'id="caller-known"' in answer["panel"]
    unknown = signed_in("agent").get("/requests/lookup", query_string={"lookup": "13912345678"}).get_json()
    assert unknown["found"] is False and unknown["values"] == {} and 'id="caller-unknown"' in unknown["panel"]
    bad = signed_in("agent").get("/requests/lookup", query_string={"lookup": "call me"})
    assert bad.status_code == 422 and "lookup" in bad.get_json()["errors"]


def test_the_page_in_chinese_says_so_in_chinese(signed_in, caller):
    agent = signed_in("agent")
    agent.get("/lang/zh")
    html = agent.get("/requests/new", query_string={"lookup": "13800000001"}).get_data(as_text=True)
    assert "来电客户：Li Na" in html and "该客户有未结工单" in html


@pytest.mark.parametrize("role", ["technician", "qa", "warehouse"])
def test_roles_that_do_not_see_personal_data_cannot_look_callers_up(signed_in, caller, role):
    b = signed_in(role)
    assert b.get("/requests/lookup", query_string={"lookup": "13800000001"}).status_code == 403
    assert b.get("/requests/new", query_string={"lookup": "13800000001"}).status_code == 403
