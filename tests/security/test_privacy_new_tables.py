"""Erasure and export cover the ticket workspace and the warehouse: edited contacts, notes and calls,
shipments, RMA receipts and the files attached to the customer's tickets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.errors import FormValidationError
from handlers import attachments, ticket_notes
from handlers.privacy_requests import erase_customer, export_customer
from handlers.stock import RmaReceipt, Shipment
from handlers.ticket_notes import CustomerAddress, TicketActivity
from tests.security.test_privacy_requests import TRACES, _traces_left, closed_case, desk  # noqa: F401

NEW_EMAIL = "wren.new@example.org"
OLD_EMAIL = "wren.okonkwo@example.org"
ADDRESS = "88 Willow Lane, Pudong"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 512


@pytest.fixture
def worked_case(closed_case, database):  # noqa: F811
    """Wren's closed ticket, worked on its page and in the warehouse: edits, a call, a shipment, a file."""
    number = closed_case.ticket_number
    with database.transaction() as s:
        ticket_notes.change_contact(s, number, "ann", email=NEW_EMAIL, address=ADDRESS)
        ticket_notes.log_call(s, number, "ann", "outbound", "reached", "3", "Wren asked to ship to 88 Willow Lane")
        ticket_notes.add_note(s, number, "ann", "Wren Okonkwo-Tan prefers calls on 139 2468 1357")
        attachments.add_attachment(s, number, "wren-receipt.png", PHOTO, "image/png", "ann")
        now = clock.now()
        s.add(Shipment(ticket_number=number, rma_number="RMA-7", ship_to_name="Wren Okonkwo-Tan",
                       ship_to_address=ADDRESS, status="to_ship", created_at=now, created_by="wes"))
        s.add(RmaReceipt(rma_number="RMA-7", ticket_number=number, received_at=now, received_by="wes",
                         condition="Box labelled Wren Okonkwo-Tan, 88 Willow Lane; scratches", process_notified=True))
    return closed_case


def _cells(database, model, *columns) -> list[str]:
    with database.transaction(write=False) as s:
        return [str(v) for row in s.execute(select(*columns)) for v in row]


def test_an_erasure_leaves_no_name_phone_email_or_address_in_the_new_tables(worked_case, database):
    with database.transaction() as s:
        result = erase_customer(s, NEW_EMAIL, "Customer's request #PR-9", "sue")
    # the generic sweep: no table anywhere still holds Wren's data, the old or the edited values
    assert _traces_left(database) == []
    left = " ".join(_cells(database, Shipment, Shipment.ship_to_name, Shipment.ship_to_address)
                    + _cells(database, RmaReceipt, RmaReceipt.condition)
                    + _cells(database, TicketActivity, TicketActivity.body, TicketActivity.details))
    for trace in (*TRACES, NEW_EMAIL, OLD_EMAIL, "Willow"):
        assert trace.lower() not in left.lower()
    with database.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CustomerAddress)) == 0
        assert s.scalar(select(func.count()).select_from(attachments.Attachment)) == 0
        assert s.scalars(select(RmaReceipt.condition)).one().endswith("scratches")
    assert (result["contact_addresses"], result["shipments"], result["attachments_deleted"]) == (1, 1, 1)


def test_an_export_includes_the_edited_contact_workspace_shipments_receipts_and_files(worked_case, database):
    with database.transaction() as s:
        document = export_customer(s, NEW_EMAIL, "sue")
    [ticket] = document["tickets"]
    assert document["contact_addresses"][0]["address"] == ADDRESS
    assert document["customers"][0]["email"] == NEW_EMAIL
    [edit] = [a for a in ticket["workspace"] if a["kind"] == "contact"]
    assert edit["details"]["email"] == {"old": OLD_EMAIL, "new": NEW_EMAIL}
    assert {a["kind"] for a in ticket["workspace"]} == {"contact", "call", "note"}
    assert ticket["shipments"][0]["ship_to_address"] == ADDRESS
    assert ticket["rma_receipts"][0]["condition"].startswith("Box labelled Wren")
    [photo] = document["attachments"]
    assert (photo["filename"], photo["size"]) == ("wren-receipt.png", len(PHOTO))


def test_a_bad_edit_before_the_erasure_changes_nothing_and_the_erasure_still_finds_the_customer(
        worked_case, database):
    with database.transaction() as s, pytest.raises(FormValidationError):
        ticket_notes.change_contact(s, worked_case.ticket_number, "ann", email="no at sign")
    with database.transaction() as s:
        erase_customer(s, NEW_EMAIL, "Customer's request #PR-10", "sue")
    assert _traces_left(database) == []
