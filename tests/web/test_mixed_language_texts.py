"""Pages say things in one language: no English sentence, raw code or element id inside a Chinese page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from flask import Flask

from tests.web.conftest import open_tasks
from tests.web_api.test_api_real_process import real  # noqa: F401 (the real bundle as the intake process)
from web.i18n import use_bundle_texts
from web.rendering import instructions_html

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def _instructions(element_id: str, language: str) -> str:
    if language == "zh":
        return json.loads((PROCESSES / "translations.zh.json").read_text())[f"instructions:{element_id}"]
    bpmn = (PROCESSES / "repair_and_qc.bpmn").read_text()
    start = bpmn.index(f'id="{element_id}"')
    body = bpmn[bpmn.index("<spiffworkflow:instructionsForEndUser>", start):]
    return body[len("<spiffworkflow:instructionsForEndUser>"):body.index("</spiffworkflow:instructionsForEndUser>")]


def test_unreserved_parts_are_listed_once_in_the_readers_language() -> None:
    # Given a repair that used a part nobody reserved (as parts.consume reports it)
    consumption = {"consumed": [], "unreserved": [{"sku": "AC-FANMOTOR-IN", "used": 3, "reserved": 0, "in_stock": 0}]}
    app = Flask(__name__)
    for language, expected in (("zh", "用了 3 件，预留 0 件"), ("en", "used 3, reserved 0")):
        with app.test_request_context(headers={"Accept-Language": language}):
            use_bundle_texts({})
            # When the warehouse reads the reconcile task's instructions
            html = str(instructions_html(_instructions("reconcile_used_parts", language),
                                         {"ticket_number": "AS-1", "consumption": consumption}))
        # Then the part is named once, with the reader's words, and the handler's English is not repeated
        text = re.sub(r"<[^>]+>", "", html)
        assert text.count("AC-FANMOTOR-IN") == 1, text
        assert expected in text
        assert "(used 3" not in text


def test_a_task_refused_to_a_role_is_named_with_its_chinese_task_and_lane_names(desk, services, signed_in) -> None:
    # Given a new request waiting for an agent
    desk.open_case()
    task = next(t for t in open_tasks(services) if t.lane == "Agent")
    technician = signed_in("technician")
    technician.get("/lang/zh?next=/tasks")
    # When a technician opens the agent's task
    page = technician.get(f"/tasks/{task.task_id}")
    # Then the refusal names the task and the lane as the task pages do, in Chinese
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 403
    assert f"「{task.name}」" not in text and "「Agent」" not in text, text
    assert "（泳道「客服」需要角色「客服」）" in text, text
    # and in English the role is a word too
    technician.get("/lang/en?next=/tasks")
    english = html.unescape(technician.get(f"/tasks/{task.task_id}").get_data(as_text=True))
    assert "(lane 'Agent' needs role 'Agent')" in english


HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.usefixtures("real")
def test_knowledge_articles_are_read_in_the_customers_language(browser) -> None:
    for language, english_text in (("zh", False), ("en", True)):
        browser.get(f"/lang/{language}?next=/service/request")
        # When a customer looks for answers about a washer that does not drain
        found = browser.get("/service/suggestions?model=WM-F80&text=drain+E21").get_json()["articles"]
        assert found
        for article in found:
            # Then each suggestion's title and excerpt are in the customer's language
            for text in (article["title"], article["excerpt"]):
                assert bool(HAN.search(text)) is not english_text, (language, text)
        # and so is the article itself
        page = html.unescape(browser.get(found[0]["url"]).get_data(as_text=True))
        body = page[page.index('class="card article-body"'):page.index("</div>", page.index("article-body"))]
        assert ("Symptom" in body or "drain" in body) is english_text, body
        assert bool(HAN.search(body)) is not english_text, body


def _alerts_and_notifications(services, ticket: str) -> None:
    """A customer's SMS and one SLA breach alert e-mailed to two colleagues at the same minute."""
    from datetime import UTC, datetime

    from handlers.outbox import Outbox

    at = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    rows = [("received", "sms", "13800000000", "customer"),
            ("sla_breached", "email", "supervisor@aftersales.example", "staff"),
            ("sla_breached", "email", "tech@aftersales.example", "staff")]
    with services.db.transaction() as s:
        for milestone, channel, recipient, audience in rows:
            s.add(Outbox(ticket_number=ticket, milestone=milestone, channel=channel, recipient=recipient,
                         language="zh", template=f"notify/{milestone}", body="…", instance_id=1,
                         status="delivered", next_attempt_at=at, created_at=at, delivered_at=at, audience=audience))


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start:page.index("</section>", start)]


@pytest.mark.parametrize(("language", "label", "sms"), [("zh", "SLA 已超时提醒", "短信"), ("en", "SLA breach", "SMS")])
def test_staff_alerts_are_listed_apart_from_the_customers_notifications_with_their_recipients(
        signed_in, services, repair_ticket, language, label, sms) -> None:
    # Given a ticket with a customer notification and an SLA alert sent to two colleagues
    _alerts_and_notifications(services, repair_ticket)
    supervisor = signed_in("supervisor")
    supervisor.get(f"/lang/{language}?next=/tasks")
    # When the supervisor opens the ticket
    page = html.unescape(supervisor.get(f"/tickets/{repair_ticket}").get_data(as_text=True))
    # Then no raw milestone code shows, the customer's table holds the customer's message only,
    assert "milestone:" not in page and "alert:" not in page
    customer = _section(page, "notifications")
    assert sms in customer and label not in customer and "@aftersales.example" not in customer
    # and the alert is one row, in words, naming both colleagues it went to
    alerts = _section(page, "staff-alerts")
    assert alerts.count(label) == 1
    assert "supervisor@aftersales.example, tech@aftersales.example" in alerts


@pytest.mark.parametrize(("language", "code", "words"), [
    ("zh", "called_back", "已回电客户"), ("zh", "workload", "工作量 / 人手"),
    ("en", "called_back", "Called the customer back"), ("en", "workload", "Workload / staffing"),
])
def test_a_coded_answer_among_a_tickets_notes_reads_as_its_option(app, language, code, words) -> None:
    from web.option_words import said_answer

    with app.test_request_context(headers={"Accept-Language": language}):
        use_bundle_texts(json.loads((PROCESSES / "translations.zh.json").read_text()) if language == "zh" else {})
        assert said_answer(code) == words
        assert said_answer("Told her a technician comes") is None  # a note someone wrote stays as written


@pytest.mark.usefixtures("real")
def test_the_ticket_number_sentence_ends_with_the_readers_full_stop(browser) -> None:
    from tests.web.test_intake_arrival import send

    browser.get("/lang/zh?next=/service/request")
    page = html.unescape(send(browser).get_data(as_text=True))
    text = re.sub(r"<[^>]+>", "", page)
    assert re.search(r"您的工单号是 AS-[\d-]+。", text), text
    assert not re.search(r"AS-[\d-]+\. ", text)


@pytest.mark.parametrize(("language", "step", "who"), [
    ("zh", "流程步骤「预留备件」", "系统（由客户触发）"),
    ("en", "Process step “Reserve the parts”", "System (triggered by Customer)"),
])
def test_a_stock_movement_made_by_a_process_step_names_the_step_not_the_instance(desk, services, signed_in,
                                                                                language, step, who) -> None:
    from datetime import UTC, datetime

    from handlers.parts import StockMovement

    # Given a reservation the parts process made after the customer accepted the quote
    with services.db.transaction() as s:
        s.add(StockMovement(at=datetime(2026, 3, 2, 6, 0, tzinfo=UTC), actor="customer", kind="reserve",
                            sku="WM-PUMP-01", warehouse="WH-SH", on_hand_change=0, reserved_change=1,
                            available_after=3, reserved_after=1, ticket_number="AS-20260302-00001",
                            reason="reserve_stock (instance 136)"))
    warehouse = signed_in("warehouse")
    warehouse.get(f"/lang/{language}?next=/warehouse/")
    # When the warehouse reads the stock ledger
    page = html.unescape(warehouse.get("/warehouse/movements").get_data(as_text=True))
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[page.index('data-kind="reserve"'):]))
    row = row[:row.index("AS-20260302-00001") + 200]
    # Then the reason names the step as the process does, the ticket is its own column, no instance number shows
    assert step in row and "136" not in row and "reserve_stock" not in row, row
    # and the process is who moved the stock, set going by the customer
    assert who in row


def test_every_kpi_event_is_said_in_chinese_and_english() -> None:
    from analytics import catalogue

    for key in catalogue.figure_keys():
        raw = json.loads((PROCESSES / "data" / "kpi_catalogue.json").read_text())["figures"][key]["events"]
        zh, en = catalogue.entry(key, "zh")["events"], catalogue.entry(key, "en")["events"]
        assert len(zh) == len(en) == len(raw), key
        assert all(HAN.search(event) for event in zh), (key, zh)  # not the English key
        assert not any(HAN.search(event) or "_" in event for event in en), (key, en)  # words, no element ids


@pytest.mark.parametrize(("language", "found"), [("en", "We have found the cause of the problem."),
                                                 ("zh", "我们已查明故障原因。")])
def test_the_customer_reads_that_the_cause_was_found_not_the_staffs_own_note(desk, browser, language, found) -> None:
    # Given an agent's remote help found the cause and wrote it down in the staff's words
    case = desk.open_case().register().respond().assist(finding="室外风机轴承磨损，压缩机电容鼓包")
    browser.get(f"/lang/{language}")
    browser.get("/service/status")
    # When the customer looks the ticket up
    page = browser.post("/service/status", {"ticket": case.ticket_number, "contact": "li.na@example.com"})
    text = html.unescape(page.get_data(as_text=True))
    # Then the page says the cause is found, in the customer's language, and shows none of the staff's note
    assert page.status_code == 200 and found in text
    assert "风机轴承" not in text


def test_a_pick_list_of_people_shows_their_names_as_data(app) -> None:
    from flask import render_template_string

    from web import formgen

    schema = {"type": "object", "properties": {"new_owner": {
        "type": "string", "title": "New owner", "x-catalogue": "staff",
        "oneOf": [{"const": "agent", "title": "Agent (agent)"}]}}}
    [field] = formgen.build(schema, {"new_owner": {"ui:widget": "select"}}, {}, {}, None)
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        page = render_template_string('{% from "macros/form.html" import control %}{{ control(f) }}', f=field)
    assert '<option value="agent"  translate="no">Agent (agent)</option>' in page
