"""The warehouse pages on the real after-sales process: goods-in releases a waiting ticket,
bad movements are refused on their field and change nothing, RMA receipts reach the
process, shipments carry the address the warehouse may see, readers cannot post."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, AuditStream
from handlers.dispatch import Assignment
from handlers.parts import Stock, StockMovement
from handlers.stock import RmaReceipt, Shipment
from tests.process.driver import Desk

MOTORS = [{"sku": "WM-MOTOR-INV", "quantity": 5}]


def waiting_for_motors(desk: Desk):
    """A ticket whose five motors are back-ordered: its process waits for parts_arrived."""
    case = desk.open_case()
    case.register().diagnose(MOTORS).propose(MOTORS)
    case.complete("review_quote", {"decision": "approve"})
    case.answer_quote(True)
    assert case.waiting_for() == ["parts_arrived"]
    return case


def waiting_for_device(desk: Desk):
    """A ticket on the repair-centre route: the customer posts the device on an RMA."""
    case = desk.open_case()
    case.register().diagnose().propose(route="repair_centre")
    case.answer_quote(True)
    assert case.waiting_for() == ["device_received"]
    return case


def counts(database) -> tuple[int, int, int]:
    with database.transaction(write=False) as s:
        return (int(s.scalar(select(func.sum(Stock.available))) or 0),
                int(s.scalar(select(func.count()).select_from(StockMovement)) or 0),
                int(s.scalar(select(AuditStream.seq).where(AuditStream.stream == "warehouse")) or 0))


def test_goods_in_releases_the_waiting_ticket_and_says_which(desk, database, signed_in):
    # Given a ticket waiting for back-ordered motors
    case = waiting_for_motors(desk)
    wes = signed_in("warehouse")
    backorders = wes.get("/warehouse/backorders").get_data(as_text=True)
    assert case.ticket_number in backorders
    # When the warehouse books ten motors in
    response = wes.post("/warehouse/goods-in", {"sku": "WM-MOTOR-INV", "warehouse": "WH-SH", "quantity": "10",
                                                "reference": "DN-2026-118"})
    assert response.status_code == 302
    page = wes.get(response.headers["Location"]).get_data(as_text=True)
    # Then the page names the ticket that moved on, and its repair is ready
    assert re.search(r'id="wh-released".*' + case.ticket_number, page, re.S)
    assert case.ready() == ["repair_device"]
    assert case.ticket_number not in wes.get("/warehouse/backorders").get_data(as_text=True)
    # And the ledger shows the goods-in and the reservation it made, with who and the reference
    ledger = wes.get("/warehouse/movements?sku=WM-MOTOR-INV").get_data(as_text=True)
    assert 'data-kind="goods_in"' in ledger and "DN-2026-118" in ledger
    with database.transaction(write=False) as s:
        kinds = s.scalars(select(StockMovement.kind).where(StockMovement.actor == "warehouse")
                          .order_by(StockMovement.id)).all()
    assert kinds == ["goods_in", "reserve"]


def test_the_chinese_ledger_says_the_reasons_handlers_write_in_chinese_and_typed_ones_as_data(desk, signed_in):
    # Given a goods-in that released a back-ordered ticket (the process reserved the motors) and a count correction
    waiting_for_motors(desk)
    wes = signed_in("warehouse")
    wes.get("/warehouse/goods-in")
    assert wes.post("/warehouse/goods-in", {"sku": "WM-MOTOR-INV", "warehouse": "WH-SH", "quantity": "10",
                                            "reference": "DN-2026-118"}).status_code == 302
    wes.get("/warehouse/adjust")
    wes.post("/warehouse/adjust", {"sku": "WM-PUMP-01", "warehouse": "WH-SH", "quantity": "-1", "reason": "dropped"})
    # When a Chinese reader opens the ledger
    wes.get("/lang/zh")
    ledger = wes.get("/warehouse/movements").get_data(as_text=True)
    # Then the handlers' reasons read in Chinese and the typed reason and reference are marked as data
    assert "收货入库" in ledger and "缺货订单" in ledger and "流程步骤" in ledger and "fulfilled" not in ledger
    assert '<span translate="no">dropped</span>' in ledger and '<span translate="no">DN-2026-118</span>' in ledger


@pytest.mark.parametrize(("url", "form", "field", "says"), [
    ("/warehouse/adjust", {"quantity": "-9999", "reason": "Broken"}, "quantity", "would take the stock below zero"),
    ("/warehouse/adjust", {"quantity": "-1", "reason": ""}, "reason", "This field is required."),
    ("/warehouse/goods-in", {"quantity": "-5", "reference": "DN-1"}, "quantity", "at least 1"),
    ("/warehouse/goods-in", {"quantity": "5", "reference": "DN-1", "sku": "NOPE"}, "sku", "There is no part NOPE"),
])
def test_a_bad_movement_is_refused_on_its_field_and_changes_nothing(desk, database, signed_in, url, form, field,
                                                                   says):
    wes = signed_in("warehouse")
    before = counts(database)
    wes.get(url)
    response = wes.post(url, {"sku": "WM-PUMP-01", "warehouse": "WH-SH", **form})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', page)
    assert says in page
    assert counts(database) == before


def test_chinese_pages_say_the_refusal_in_chinese(desk, signed_in):
    wes = signed_in("warehouse")
    wes.get("/lang/zh")
    wes.get("/warehouse/adjust")
    page = wes.post("/warehouse/adjust", {"sku": "WM-PUMP-01", "warehouse": "WH-SH", "quantity": "-9999",
                                          "reason": "损坏"}).get_data(as_text=True)
    assert "库存不能低于零" in page and "盘点调整" in page


def test_receiving_an_rma_moves_the_ticket_on_and_makes_a_shipment(desk, database, signed_in):
    # Given a device in the post
    case = waiting_for_device(desk)
    rma = case.data()["rma"]["rma_number"]
    wes = signed_in("warehouse")
    inbox = wes.get("/warehouse/rma").get_data(as_text=True)
    assert re.search(rf'id="rma-{rma}" data-state="expected"', inbox)
    # When it is booked in without its condition, nothing happens
    refused = wes.post(f"/warehouse/rma/{rma}/receive", {"condition": "", "address": "1 Road"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert case.waiting_for() == ["device_received"]
    # When it is booked in properly
    done = wes.post(f"/warehouse/rma/{rma}/receive", {"condition": "Box dented, unit fine",
                                                      "address": "88 Century Avenue, Shanghai"})
    assert done.status_code == 302
    # Then the process checks the device in, and the device is due back to Li Na at that address
    assert case.lanes() == {"check_received_device": "warehouse"}
    assert case.data()["device_receipt"] == {"condition": "Box dented, unit fine", "received_by": "warehouse"}
    shipments = wes.get("/warehouse/shipments").get_data(as_text=True)
    assert "Li Na" in shipments and "88 Century Avenue, Shanghai" in shipments
    assert "138 0000 0001" not in shipments and "li.na@example.com" not in shipments
    # And booking it in twice is refused
    again = wes.post(f"/warehouse/rma/{rma}/receive", {"condition": "x", "address": "y"})
    assert again.status_code == 422 and "was received already" in again.get_data(as_text=True)
    with database.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(RmaReceipt)) == 1
        kinds = s.scalars(select(AuditEvent.kind).where(AuditEvent.stream == "warehouse",
                                                        AuditEvent.kind != "stock.moved")).all()
        assert kinds == ["rma.received"]


def test_a_shipment_needs_carrier_and_tracking_number_and_is_audited(desk, database, signed_in):
    case = waiting_for_device(desk)
    rma = case.data()["rma"]["rma_number"]
    wes = signed_in("warehouse")
    wes.get("/warehouse/rma")
    wes.post(f"/warehouse/rma/{rma}/receive", {"condition": "fine", "address": "88 Century Avenue, Shanghai"})
    with database.transaction(write=False) as s:
        shipment_id = s.scalars(select(Shipment.id)).one()
    missing = wes.post(f"/warehouse/shipments/{shipment_id}/ship", {"carrier": "SF Express", "tracking_number": ""})
    assert missing.status_code == 422
    assert re.search(r'name="tracking_number"[^>]*aria-invalid="true"', missing.get_data(as_text=True))
    shipped = wes.post(f"/warehouse/shipments/{shipment_id}/ship", {"carrier": "SF Express",
                                                                    "tracking_number": "SF1234567890"})
    assert shipped.status_code == 302
    page = wes.get("/warehouse/shipments").get_data(as_text=True)
    assert "SF1234567890" in page and 'data-status="shipped"' in page
    with database.transaction(write=False) as s:
        assert s.scalars(select(AuditEvent.kind).where(AuditEvent.stream == "warehouse",
                                                       AuditEvent.kind != "stock.moved")
                         .order_by(AuditEvent.seq)).all() == ["rma.received", "shipment.shipped"]


def test_admin_reads_the_shipments_with_the_customer_masked(desk, signed_in):
    case = waiting_for_device(desk)
    rma = case.data()["rma"]["rma_number"]
    wes = signed_in("warehouse")
    wes.get("/warehouse/rma")
    wes.post(f"/warehouse/rma/{rma}/receive", {"condition": "fine", "address": "88 Century Avenue, Shanghai"})
    page = signed_in("admin").get("/warehouse/shipments").get_data(as_text=True)
    assert "Li Na" not in page and "88 Century Avenue" not in page
    assert 'action="/warehouse/shipments/' not in page  # readers get no form


@pytest.mark.parametrize(("role", "status"), [("supervisor", 200), ("admin", 200), ("agent", 403),
                                              ("technician", 403)])
def test_supervisors_and_admins_read_the_warehouse_others_do_not(desk, signed_in, role, status):
    assert signed_in(role).get("/warehouse/").status_code == status


def test_a_reader_cannot_book_stock(desk, database, signed_in):
    sue = signed_in("supervisor")
    sue.get("/warehouse/goods-in")
    before = counts(database)
    response = sue.post("/warehouse/goods-in", {"sku": "WM-PUMP-01", "warehouse": "WH-SH", "quantity": "5",
                                                "reference": "DN-1"})
    assert response.status_code == 403
    assert counts(database) == before


def test_the_pick_list_shows_the_parts_held_for_a_visit(desk, database, signed_in):
    # Given a field repair with its pump reserved and a technician booked
    case = desk.open_case()
    case.register().diagnose().propose()
    case.answer_quote(True)
    with database.transaction(write=False) as s:
        visit = s.scalars(select(Assignment).where(Assignment.ticket_number == case.ticket_number)).first()
    assert visit is not None
    day = (visit.starts_at + timedelta(hours=8)).date().isoformat()  # Shanghai's calendar day
    page = signed_in("warehouse").get(f"/warehouse/picking?day={day}").get_data(as_text=True)
    assert case.ticket_number in page and "WM-PUMP-01" in page
    bad = signed_in("warehouse").get("/warehouse/picking?day=tomorrow")
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)


def test_an_rma_booked_in_another_way_is_no_longer_expected(desk, signed_in):
    # Given a device the repair centre booked in through the API (the process heard device_received)
    case = waiting_for_device(desk)
    rma = case.data()["rma"]["rma_number"]
    case.message("device_received", {"condition": "fine", "received_by": "centre"})
    # Then the inbox does not offer to receive it again
    page = signed_in("warehouse").get("/warehouse/rma").get_data(as_text=True)
    assert re.search(rf'id="rma-{rma}" data-state="closed"', page)
    assert f'action="/warehouse/rma/{rma}/receive"' not in page
