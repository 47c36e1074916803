"""The auditor's views: filtered instance list and CSV, the trace data, masking, verification."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select, update

from engine.models import AuditEvent
from tests.web_audit.conftest import CUSTOMER


def test_auditor_lists_instances_filtered_by_status_ticket_and_process(signed_in, order_instance):
    auditor = signed_in("auditor")
    page = auditor.get("/audit/instances?status=active&ticket=O-7&process=order_fulfilment")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-instance="{order_instance}"' in html and "1 instance" in html
    assert 'data-instance="' not in auditor.get("/audit/instances?status=completed").get_data(as_text=True)
    assert 'data-instance="' not in auditor.get("/audit/instances?ticket=NOPE").get_data(as_text=True)
    assert 'data-instance="' not in auditor.get("/audit/instances?incident=yes").get_data(as_text=True)
    assert f'data-instance="{order_instance}"' in auditor.get(
        "/audit/instances?from=2026-03-01&to=2026-03-02&version=1").get_data(as_text=True)


def test_instance_list_exports_the_filtered_rows_as_csv(signed_in, order_instance):
    response = signed_in("auditor").get("/audit/instances.csv?status=active")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: a Chinese Excel reads it right
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [(r["id"], r["ticket"], r["process_id"], r["version"]) for r in rows] == [
        (str(order_instance), "O-7", "order_fulfilment", "1")]


@pytest.mark.parametrize(("query", "field"), [("from=yesterday", "from"), ("status=lost", "status"),
                                               ("version=x1", "version")])
def test_a_bad_filter_is_refused_with_the_field_named(signed_in, order_instance, query, field):
    response = signed_in("auditor").get(f"/audit/instances?{query}")
    assert response.status_code == 400
    assert field in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["agent", "technician", "warehouse", "qa"])
def test_roles_without_audit_rights_are_refused(signed_in, order_instance, role):
    client = signed_in(role)
    base = f"/audit/instances/{order_instance}"
    for url in ("/audit/instances", base, f"{base}/trace.json", f"{base}/trail.json", "/audit/verify"):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(browser, order_instance):
    response = browser.get(f"/audit/instances/{order_instance}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_trace_marks_completed_elements_flows_tokens_and_the_called_process(signed_in, order_instance):
    trace = signed_in("auditor").get(f"/audit/instances/{order_instance}/trace.json").get_json()
    root, called = trace["scopes"]
    assert root["elements"]["Activity_0enter"]["status"] == "completed"
    assert root["elements"]["Event_1paid"]["status"] == "waiting"
    assert "Activity_0close" not in root["elements"]
    assert {"Flow_01", "Flow_05", "Flow_07", "Flow_09"} <= set(root["flows"]) and "Flow_10" not in root["flows"]
    assert trace["tokens"] == [{"scope": "root", "element_id": "Event_1paid", "state": "waiting",
                                "task_id": trace["tokens"][0]["task_id"], "name": "Payment received"}]
    assert (called["process_id"], called["called_from"], called["parent"]) == (
        "pick_and_pack", "Activity_0pick", "root")
    assert root["calls"] == {"Activity_0pick": [called["key"]]}
    assert called["elements"]["Activity_pack"]["status"] == "completed" and called["flows"] == ["Flow_p1", "Flow_p2"]
    assert called["diagram_url"].endswith("/files/pick_and_pack.bpmn")


def test_clicking_an_element_tells_when_who_and_the_data_before_and_after(signed_in, order_instance):
    auditor = signed_in("auditor")
    detail = auditor.get(f"/audit/instances/{order_instance}/elements/Activity_0enter.json").get_json()
    [run] = detail["runs"]
    assert (run["actor"], run["waiting_seconds"], run["working_seconds"]) == ("sally", 1800.0, 300.0)
    assert run["completed_at"].startswith("2026-03-02T09:35")
    assert "sku" not in run["before"] and run["after"]["sku"] == "SKU-1"
    assert run["after"]["weight_class"] == "light" and run["delta"]["set"]["quantity"] == 2
    assert [e["kind"] for e in run["events"]] == ["task.ready", "task.claimed", "task.completed"]


def test_data_as_of_a_step_replays_the_recorded_changes(signed_in, order_instance):
    auditor = signed_in("auditor")
    trace = auditor.get(f"/audit/instances/{order_instance}/trace.json").get_json()
    enter = next(e for e in trace["timeline"] if e["kind"] == "task.completed" and e["element_id"] == "Activity_0enter")
    before = auditor.get(f"/audit/instances/{order_instance}/data.json?seq={enter['seq'] - 1}").get_json()
    after = auditor.get(f"/audit/instances/{order_instance}/data.json?seq={enter['seq']}").get_json()
    assert "sku" not in before["data"] and after["data"]["sku"] == "SKU-1"
    assert auditor.get(f"/audit/instances/{order_instance}/data.json?seq=9999").status_code == 404
    assert auditor.get(f"/audit/instances/{order_instance}/data.json?seq=x").status_code == 400


def test_personal_data_is_masked_for_auditors_everywhere(signed_in, order_instance):
    auditor = signed_in("auditor")
    text = json.dumps(auditor.get(f"/audit/instances/{order_instance}/trace.json").get_json())
    text += auditor.get(f"/audit/instances/{order_instance}/trail.json").get_data(as_text=True)
    text += json.dumps(auditor.get(f"/audit/instances/{order_instance}/elements/Activity_0enter.json").get_json())
    for secret in (CUSTOMER["name"], CUSTOMER["phone"], CUSTOMER["email"]):
        assert secret not in text
    assert "A***" in text and "***0018" in text and "a***@example.com" in text
    page = auditor.get(f"/audit/instances/{order_instance}").get_data(as_text=True)
    assert "Personal data is masked." in page and "Show personal data" not in page
    assert auditor.post(f"/audit/instances/{order_instance}/unmask", {"reason": "curious"}).status_code == 403


def test_unmasking_needs_a_reason_is_audited_and_shows_the_data(signed_in, order_instance, services):
    supervisor = signed_in("supervisor")
    supervisor.get(f"/audit/instances/{order_instance}")
    assert supervisor.post(f"/audit/instances/{order_instance}/unmask", {"reason": " "}).status_code == 400
    assert supervisor.post(f"/audit/instances/{order_instance}/unmask", {"reason": "complaint C-12"}).status_code == 302
    trace = supervisor.get(f"/audit/instances/{order_instance}/trace.json").get_json()
    assert trace["masked"] is False and trace["data"]["customer"] == CUSTOMER
    with services.db.transaction(write=False) as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.stream == "privacy")).all()
    assert (event.kind, event.actor, event.data["reason"], event.data["instance_id"]) == (
        "personal_data.unmasked", "supervisor", "complaint C-12", order_instance)
    supervisor.post(f"/audit/instances/{order_instance}/mask")
    assert supervisor.get(f"/audit/instances/{order_instance}/trace.json").get_json()["masked"] is True


def test_verification_in_the_ui_reports_a_tampered_audit_row(signed_in, order_instance, services):
    auditor = signed_in("auditor")
    intact = auditor.get(f"/audit/verify?instance={order_instance}")
    assert intact.status_code == 200 and "Intact." in intact.get_data(as_text=True)
    with services.db.transaction() as s:
        s.execute(update(AuditEvent).where(AuditEvent.stream == f"instance:{order_instance}", AuditEvent.seq == 4)
                  .values(actor="mallory"))
    broken = auditor.get(f"/audit/verify?instance={order_instance}")
    html = broken.get_data(as_text=True)
    assert broken.status_code == 409
    assert "tampered with" in html and f"instance:{order_instance}" in html and "(edited)" in html
    assert auditor.get("/audit/verify", headers={"Accept": "application/json"}).get_json()["breaks"][0]["seq"] == 4
    assert auditor.get("/audit/verify?instance=99999").status_code == 404


def test_a_failed_service_task_is_marked_failed_with_its_incident(signed_in, incident_instances):
    trace = signed_in("auditor").get(f"/audit/instances/{incident_instances[0]}/trace.json").get_json()
    [root] = trace["scopes"]
    assert root["elements"]["call_1"]["status"] == "failed"
    assert trace["incidents"][0]["element_id"] == "call_1" and "unreachable" in trace["incidents"][0]["message"]
    assert trace["tokens"][0]["state"] == "failed"
