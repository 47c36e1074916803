"""Ticketing: numbers without gaps, customer/product records, repeat contacts, closure."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import HandlerError
from engine.registry import BusinessError
from handlers.ticketing import Contact, Customer, Ticket, normalize_phone
from tests.handlers.samples import CUSTOMER, FAULT, PRODUCT
from tests.handlers.threads import run_in_threads


def open_ticket(call, task="open", **changes):
    arguments = {"channel": "hotline", "customer": CUSTOMER, "product": PRODUCT, "fault": FAULT,
                 "expectation": "repair at home"}
    arguments.update(changes)
    return call("ticketing.open_ticket", task=task, **arguments)


def test_open_ticket_numbers_by_business_day_and_sets_the_business_key(call, clock):
    first = open_ticket(call, task="t1")
    second = open_ticket(call, task="t2", product={**PRODUCT, "serial_number": "WMF80-2501-000999"})
    assert first["ticket_number"] == "AS-20260302-00001"
    assert second["ticket_number"] == "AS-20260302-00002"
    assert call.business_keys == ["AS-20260302-00001", "AS-20260302-00002"]
    clock.advance(timedelta(hours=16))  # 01:00 the next day in Shanghai
    third = open_ticket(call, task="t3", product={**PRODUCT, "serial_number": "X-3"})
    assert third["ticket_number"] == "AS-20260303-00001"


def test_the_same_customer_on_another_channel_is_one_customer_record(call, count):
    first = open_ticket(call, task="t1")
    second = open_ticket(call, task="t2", channel="email",
                         customer={**CUSTOMER, "phone": "13800138000", "email": "LI.WEI@example.cn "},
                         product={**PRODUCT, "model": "TV-55U8", "serial_number": "TV55-1"})
    assert first["customer_id"] == second["customer_id"]
    assert count(Customer) == 1


def test_opening_again_for_the_same_task_returns_the_first_ticket(call, count):
    first = open_ticket(call, task="same")
    again = open_ticket(call, task="same")
    assert again == first
    assert count(Ticket) == 1
    assert count(Contact) == 1


def test_open_ticket_refuses_bad_input_and_writes_nothing(call, count):
    with pytest.raises(HandlerError, match="channel must be one of"):
        open_ticket(call, channel="fax")
    with pytest.raises(HandlerError, match="customer needs a phone or an e-mail"):
        open_ticket(call, customer={"name": "Anon"})
    with pytest.raises(HandlerError, match="product.purchase_date must be a date"):
        open_ticket(call, product={**PRODUCT, "purchase_date": "18/06/2025"})
    assert count(Ticket) == 0 and count(Customer) == 0


def test_a_repeat_contact_on_another_channel_finds_the_open_ticket(call):
    # Given a ticket opened on the hotline
    number = open_ticket(call)["ticket_number"]
    # When the same customer writes an e-mail about the same serial (spelled differently)
    found = call("ticketing.find_duplicate", customer={"name": "Wei Li", "email": "li.wei@example.cn"},
                 product={"model": "WM-F80", "serial_number": " wmf80-2501-000123 "})
    # Then the open ticket is found, and the contact is attached to it
    assert found == {"duplicate_of": number}
    attached = call("ticketing.attach_contact", task="attach", ticket_number=number, channel="email",
                    fault={"description": "Still not draining"})
    assert attached["attached_to"] == number and attached["contact_id"] > 0


@pytest.mark.parametrize(("customer", "product"), [
    ({"name": "Other", "phone": "13900000000"}, PRODUCT),
    (CUSTOMER, {**PRODUCT, "serial_number": "ANOTHER-UNIT"}),
    (CUSTOMER, {**PRODUCT, "serial_number": ""}),
    ({"name": "No contact"}, PRODUCT),
])
def test_other_customers_or_products_are_not_duplicates(call, customer, product):
    open_ticket(call)
    assert call("ticketing.find_duplicate", customer=customer, product=product) == {"duplicate_of": None}


def test_a_closed_ticket_is_not_a_duplicate_and_takes_no_contacts(call):
    number = open_ticket(call)["ticket_number"]
    closed = call("ticketing.close_ticket", task="close", ticket_number=number, outcome="resolved")
    assert closed == {"closed_at": "2026-03-02T09:00:00+00:00", "outcome": "resolved", "parts_released": []}
    assert call("ticketing.find_duplicate", customer=CUSTOMER, product=PRODUCT) == {"duplicate_of": None}
    with pytest.raises(BusinessError, match="is closed") as info:
        call("ticketing.attach_contact", ticket_number=number, channel="chat", fault={})
    assert info.value.code == "TICKET_NOT_FOUND"


def test_attach_to_an_unknown_ticket_is_a_business_error(call, count):
    with pytest.raises(BusinessError, match="AS-20990101-00001 does not exist") as info:
        call("ticketing.attach_contact", ticket_number="AS-20990101-00001", channel="web", fault={})
    assert info.value.code == "TICKET_NOT_FOUND"
    assert count(Contact) == 0


def test_close_ticket_is_idempotent_and_checks_its_input(call, clock):
    number = open_ticket(call)["ticket_number"]
    first = call("ticketing.close_ticket", task="close", ticket_number=number, outcome="declined")
    clock.advance(timedelta(hours=1))
    assert call("ticketing.close_ticket", task="close", ticket_number=number, outcome="declined") == first
    with pytest.raises(HandlerError, match="outcome must be one of"):
        call("ticketing.close_ticket", ticket_number=number, outcome="lost")
    with pytest.raises(HandlerError, match="does not exist"):
        call("ticketing.close_ticket", task="x", ticket_number="AS-1", outcome="resolved")


@pytest.mark.parametrize(("raw", "normal"), [
    ("+86 138-0013-8000", "13800138000"), ("0086 13800138000", "13800138000"), ("(021) 5080 1200", "02150801200"),
    ("", None), (None, None),
])
def test_phone_numbers_are_compared_by_digits(raw, normal):
    assert normalize_phone(raw) == normal


def test_concurrent_intake_hands_out_consecutive_numbers(call, database):
    # Given eight agents registering requests at the same moment
    numbers: list[str] = []

    def register(i: int) -> None:
        result = open_ticket(call, task=f"t{i}", product={**PRODUCT, "serial_number": f"SN-{i}"})
        numbers.append(result["ticket_number"])

    errors = run_in_threads(register, 8)
    # Then every ticket has its own number and there is no gap
    assert errors == []
    assert sorted(numbers) == [f"AS-20260302-{n:05d}" for n in range(1, 9)]
    with database.transaction(write=False) as session:
        stored = sorted(session.scalars(select(Ticket.number)))
    assert stored == sorted(numbers)
    assert all(re.fullmatch(r"AS-\d{8}-\d{5}", n) for n in stored)
