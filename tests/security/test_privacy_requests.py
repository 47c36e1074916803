"""Privacy requests end to end on the real process: a customer's data exported, then erased everywhere,
while the audit trail still verifies and records the erasure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from engine import audit
from engine.audit import ERASED_KIND
from engine.db import Base, Database
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import AuditEvent
from engine.registry import load_handlers
from handlers.privacy_requests import PrivacyRequest, erase_customer, export_customer
from handlers.ticketing import Customer
from tests.process.driver import Desk

WREN = {"name": "Wren Okonkwo-Tan", "phone": "+86 139 2468 1357", "email": "wren.okonkwo@example.org",
        "tier": "vip", "language": "en", "preferred_channel": "email", "region": "east"}
#: every spelling of Wren's data that must be gone after the erasure
TRACES = ("Wren", "Okonkwo", "13924681357", "139 2468 1357", "wren.okonkwo@example.org")


@pytest.fixture
def desk(database: Database, runtime, clock, desk_state) -> Iterator[Desk]:
    """The real processes and catalogue, staff for every lane (a copy of the ``desk_state``
    database, tests/conftest.py)."""
    yield Desk(database, runtime, clock, desk_state)


@pytest.fixture
def closed_case(desk: Desk):
    """Wren's washer: registered, quoted, repaired, confirmed and rated — the ticket closed."""
    case = desk.open_case()
    case.register(customer=WREN, fault={"category": "hardware", "symptoms": ["not_draining"],
                                        "description": "Wren here: the washer floods, call 139 2468 1357"})
    case.diagnose().propose()
    case.answer_quote(True, comment="Fine for Wren")
    case.repair().inspect_repair(passed=True).confirm(True)
    case.answer_survey(comment="Thanks, Wren Okonkwo-Tan")
    case.complete("follow_up_customer", {"reached": True, "satisfaction": "satisfied",
                                         "notes": "Called Wren on 13924681357, happy now"})
    assert case.ticket().status == "closed"
    return case


def _traces_left(database: Database) -> list[str]:
    """Return table.column cells anywhere in the database that still hold Wren's data."""
    load_handlers()
    found = []
    pattern = re.compile("|".join(re.escape(t) for t in TRACES), re.IGNORECASE)
    with database.transaction(write=False) as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                found += [f"{table.name}.{k}" for k, v in row.items()
                          if v is not None and pattern.search(v if isinstance(v, str) else json.dumps(v, default=str))]
    return sorted(set(found))


def test_an_export_gives_every_ticket_contact_message_quote_and_answer_as_json(desk, closed_case, database):
    # Given Wren's closed ticket
    # When a supervisor exports Wren's data by e-mail address
    with database.transaction() as s:
        document = export_customer(s, "Wren.Okonkwo@example.org", "sue")
    # Then one machine-readable document holds all of it
    text = json.dumps(document)
    assert document["format"] == "aftersales.privacy-export/1"
    [customer] = document["customers"]
    assert (customer["name"], customer["phone"], customer["email"]) == (WREN["name"], "13924681357", WREN["email"])
    [ticket] = document["tickets"]
    assert ticket["number"] == closed_case.ticket_number and ticket["status"] == "closed"
    assert ticket["notifications"] and all(m["recipient"] == WREN["email"] for m in ticket["notifications"]
                                           if m["channel"] == "email")
    assert ticket["quotes"] and ticket["survey_answers"][0]["comment"] == "Thanks, Wren Okonkwo-Tan"
    assert "call 139 2468 1357" in text and WREN["name"] in json.dumps(document["process_data"])
    # And the request is recorded, in the table and in the trail, without the customer's data
    with database.transaction(write=False) as s:
        [request] = s.scalars(select(PrivacyRequest)).all()
        exported = s.scalars(select(AuditEvent).where(AuditEvent.kind == "personal_data.exported")).one()
    assert (request.kind, request.requested_by, request.tickets) == ("export", "sue", [closed_case.ticket_number])
    assert "Wren" not in json.dumps(exported.data) and "wren" not in request.subject


def test_an_erasure_leaves_no_trace_of_the_customer_and_the_trail_still_verifies(desk, closed_case, database):
    # Given Wren's closed ticket, whose data sits in tables, workflow state and audit events
    assert "ticket_customer.name" in _traces_left(database) and "audit_event.data" in _traces_left(database)
    # When Wren's data is erased on request
    with database.transaction() as s:
        result = erase_customer(s, "+86 139 2468 1357", "Customer's request #PR-7 by phone", "sue")
    # Then nothing anywhere holds it any more
    assert _traces_left(database) == []
    assert result["tickets"] == [closed_case.ticket_number] and result["audit_events"] > 0
    # And the whole audit trail still verifies, with the erasure itself in it
    with database.transaction(write=False) as s:
        report = audit.verify(s)
        erased = s.scalars(select(AuditEvent).where(AuditEvent.kind == ERASED_KIND)).one()
        customer = s.scalars(select(Customer)).one()
    assert report.ok, report.to_dict()
    assert (erased.stream, erased.actor) == ("privacy", "sue")
    assert erased.data["reason"] == "Customer's request #PR-7 by phone"
    assert len(erased.data["redacted"]) == result["audit_events"]
    assert (customer.name, customer.phone, customer.email, customer.tier) == ("[erased]", None, None, "vip")
    # And the figures keep counting the ticket: it is still there, closed
    assert closed_case.ticket().status == "closed"


def test_editing_an_erased_event_afterwards_still_breaks_verification(desk, closed_case, database):
    with database.transaction() as s:
        erase_customer(s, WREN["email"], "request PR-8", "sue")
    with database.transaction() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.stream == f"instance:{closed_case.instance_id}",
                                                   AuditEvent.kind == "instance.created")).one()
        event.data = {**event.data, "tampered": True}
    with database.transaction(write=False) as s:
        report = audit.verify(s, closed_case.instance_id)
    assert not report.ok and "edited" in report.breaks[0].reason


def test_erasing_a_customer_with_an_open_ticket_is_refused_and_changes_nothing(desk, database):
    case = desk.open_case()
    case.register(customer=WREN)
    before = _traces_left(database)
    with database.transaction() as s, pytest.raises(Conflict, match=f"open tickets \\({case.ticket_number}\\)"):
        erase_customer(s, WREN["email"], "request PR-9", "sue")
    assert _traces_left(database) == before
    with database.transaction(write=False) as s:
        assert s.scalars(select(PrivacyRequest)).all() == []


@pytest.mark.parametrize(("customer", "reason", "error", "field"), [
    ("", "request", InvalidInput, "customer"),
    ("not a phone", "request", InvalidInput, "customer"),
    ("nobody@example.org", "request", NotFound, "customer"),
    (WREN["email"], "  ", InvalidInput, "reason"),
    (WREN["email"], "x" * 501, InvalidInput, "reason"),
])
def test_a_bad_privacy_request_names_its_field_and_changes_nothing(desk, database, customer, reason, error, field):
    desk.open_case().register(customer=WREN)
    before = _traces_left(database)
    with database.transaction() as s, pytest.raises(error) as raised:
        erase_customer(s, customer, reason, "sue")
    assert raised.value.details.get("field") == field
    assert _traces_left(database) == before


def test_the_cli_exports_and_erases_and_audit_verify_passes(desk, closed_case, cli, tmp_path):
    out = tmp_path / "wren.json"
    assert "exported 1 ticket(s)" in cli("privacy", "export", "--customer", WREN["email"], "--out", str(out),
                                         "--by", "sue").stdout
    assert json.loads(out.read_text())["customers"][0]["name"] == WREN["name"]
    refused = cli("privacy", "erase", "--customer", WREN["email"], "--reason", " ", code=2)
    assert "reason" in refused.stderr
    erased = json.loads(cli("privacy", "erase", "--customer", WREN["email"], "--reason", "PR-10").stdout)
    assert erased["tickets"] == [closed_case.ticket_number]
    assert "no customer" in cli("privacy", "export", "--customer", WREN["email"], code=4).stderr
    cli("audit", "verify")


# --- the supervisors' page ----------------------------------------------------------------------
def test_a_supervisor_exports_and_erases_on_the_privacy_page(desk, closed_case, signed_in, database):
    page = signed_in("supervisor")
    assert "Privacy requests" in page.get("/privacy/").get_data(as_text=True)
    download = page.post("/privacy/export", {"customer": WREN["phone"]})
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert download.get_json()["customers"][0]["email"] == WREN["email"]
    done = page.post("/privacy/erase", {"customer": WREN["phone"], "reason": "PR-11"}).get_data(as_text=True)
    assert f"Erased the personal data of 1 ticket(s): {closed_case.ticket_number}." in done
    assert ">erase<" in done and ">export<" in done and "PR-11" in done
    assert _traces_left(database) == []


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"customer": "", "reason": "PR-12"}, 400, "give the customer&#39;s phone number or e-mail address"),
    ({"customer": WREN["email"], "reason": ""}, 400, "give the reason for the erasure"),
    ({"customer": "nobody@example.org", "reason": "PR-12"}, 404, "no customer has the e-mail address"),
])
def test_a_bad_request_on_the_privacy_page_says_what_is_wrong_and_changes_nothing(desk, signed_in, database, form,
                                                                                  status, message):
    desk.open_case().register(customer=WREN)
    before = _traces_left(database)
    page = signed_in("supervisor")
    page.get("/privacy/")
    response = page.post("/privacy/erase", form)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _traces_left(database) == before


def test_an_open_ticket_is_named_when_the_page_refuses_an_erasure(desk, signed_in):
    case = desk.open_case()
    case.register(customer=WREN)
    page = signed_in("supervisor")
    page.get("/privacy/")
    response = page.post("/privacy/erase", {"customer": WREN["email"], "reason": "PR-13"})
    assert response.status_code == 409 and case.ticket_number in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["agent", "technician", "warehouse", "qa", "process_owner", "auditor", "admin"])
def test_only_supervisors_handle_privacy_requests(signed_in, role):
    page = signed_in(role)
    assert page.get("/privacy/").status_code == 403
    assert page.post("/privacy/export", {"customer": WREN["email"]}).status_code == 403


@pytest.mark.browser
def test_the_privacy_page_works_on_a_phone_in_chinese(tmp_path, sqlite_template):
    from tests.conftest import FIXTURES
    from tests.web.live import chromium, live_site, shot, sign_in

    with live_site(tmp_path, sqlite_template, [FIXTURES / "simple"], {"sam": ["supervisor"]}) as (base, _), \
            chromium(locale="zh-CN") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, base, "sam")
        page.click("header.top details.menu > summary")  # on a phone the header's links are in the menu
        page.click("nav.menu-links a:has-text('隐私请求')")
        assert page.locator("h1").inner_text() == "隐私请求"
        form = page.locator("form[action$='/privacy/erase']")
        form.locator("[name=customer]").fill("nobody@example.org")
        form.locator("[name=reason]").fill("PR-14")
        form.locator("button").click()
        # said in Chinese
        assert "没有客户使用电子邮箱 nobody@example.org" in page.locator("#privacy-error").inner_text()
        assert page.locator("[aria-invalid=true]").count() >= 1
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
        shot(page, "privacy-supervisor-zh-390")
