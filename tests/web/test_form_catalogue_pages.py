"""Catalogue pick lists and cross-field rules on the task page (both databases): the options come
from the catalogue in the reader's language, a refused submit names the field, keeps every
widget's typed value and changes nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from engine.registry import load_handlers
from handlers.demo import load_catalogue
from tests.web.conftest import CUSTOMER, PRODUCT, TICKET, WEB_FIXTURES, open_tasks

GOOD = {"work_done": "Replaced the drain pump", "labour_hours": "1.5", "outcome": "repaired",
        "needs_callout": "true", "next_check": "2026-04-01", "started_at": "2026-03-02T09:00",
        "finished_at": "2026-03-02T10:30", "parts_used.0.sku": "WM-PUMP-01", "parts_used.0.quantity": "2"}


@pytest.fixture
def catalogue_repair(tmp_path, deploy_fixture, services):
    """The web fixture's repair, its part numbers a pick list of the real catalogue and its times ordered."""
    bundle = tmp_path / "bundle"
    shutil.copytree(WEB_FIXTURES / "customer", bundle)
    path = bundle / "repair.schema.json"
    schema = json.loads(path.read_text())
    schema["properties"]["parts_used"]["items"]["properties"]["sku"]["x-catalogue"] = "parts"
    schema["properties"]["started_at"] = {"title": "Started at", "type": "string", "format": "date-time"}
    schema["x-rules"] = [{"rule": "after", "field": "finished_at", "than": "started_at"}]
    path.write_text(json.dumps(schema))
    load_handlers()
    deploy_fixture(bundle)
    with services.db.transaction() as s:
        load_catalogue(s)
        services.runtime.start(s, "web_repair", {
            "ticket_number": TICKET, "channel": "hotline", "priority": "high", "customer_tier": "vip",
            "customer": CUSTOMER, "product": PRODUCT, "fault": {"description": "Does not drain", "symptoms": []}},
            TICKET, "agent")
    return open_tasks(services, TICKET)[0].task_id


@pytest.mark.parametrize(("lang", "pump"), [("en", "WM-PUMP-01 Drain pump 30 W ("), ("zh", "WM-PUMP-01 排水泵 (库存 ")])
def test_parts_are_offered_from_the_catalogue_with_their_stock(signed_in, catalogue_repair, lang, pump):
    b = signed_in("technician")
    b.get(f"/lang/{lang}?next=/tasks")
    html = b.get(f"/tasks/{catalogue_repair}").get_data(as_text=True)
    assert '<select id="f-parts_used-0-sku" name="parts_used.0.sku"' in html
    assert pump in html


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"parts_used.0.sku": "XX-NOPE-9"}, "f-parts_used-0-sku", "Not in the catalogue: choose one of the options."),
    ({"finished_at": "2026-03-02T08:00"}, "f-finished_at", "Must be after “Started at”."),
    ({"finished_at": "2026-03-02T09:00"}, "f-finished_at", "Must be after “Started at”."),
])
def test_a_refused_submit_names_the_field_keeps_what_was_typed_and_changes_nothing(
        signed_in, services, catalogue_repair, changes, field, message):
    b = signed_in("technician")
    b.get(f"/tasks/{catalogue_repair}")
    typed = {**GOOD, **changes}
    response = b.post(f"/tasks/{catalogue_repair}", typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<span class="field-error" id="{field}-error">{message}</span>' in html
    for name in ("work_done", "labour_hours", "next_check", "started_at", "finished_at", "parts_used.0.quantity"):
        assert f'name="{name}" value="{typed[name]}"' in html or f">{typed[name]}</textarea>" in html, name
    assert f'<option value="{typed["parts_used.0.sku"]}" selected>' in html
    assert 'value="repaired" checked' in html
    assert 'name="needs_callout" value="true" checked' in html
    assert [t.task_id for t in open_tasks(services, TICKET)] == [catalogue_repair]


def test_the_same_form_with_a_known_part_and_ordered_times_completes(signed_in, services, catalogue_repair):
    b = signed_in("technician")
    b.get(f"/tasks/{catalogue_repair}")
    assert b.post(f"/tasks/{catalogue_repair}", GOOD).status_code == 302
    assert catalogue_repair not in [t.task_id for t in open_tasks(services, TICKET)]
