"""Every task's instructions say the codes of the task data in the reader's words, in English and Chinese.

Each user task of the bundle is rendered as its task page does (the deployed bundle's and the
catalogue's words in front of the UI's), once for every value of each coded field it prints
(channel, priority, tier, category, coverage, solution, route, approval reason, escalation
reason, product line, role, SLA kind and target), and no code may show through.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from lxml import etree
from sqlalchemy import func, select

from engine.models import Deployment
from readmodels.texts import reader_texts
from tests.conftest import PROCESSES
from web.i18n import use_bundle_texts
from web.rendering import instructions_html
from web.services import Services

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BUNDLES = ("after_sales", "escalation", "feedback_and_closure", "quote_approval", "request_resolution",
           "repair_and_qc", "root_cause_analysis", "dispatch")

#: every value a coded field of the task data takes (forms' enums, the DMN tables' outputs, the process scripts)
CODES: dict[str, tuple[str, ...]] = {
    "channel": ("hotline", "web", "chat", "email", "walk_in"),
    "priority": ("urgent", "high", "medium", "low"),
    "tier": ("normal", "vip"),
    "category": ("hardware", "software", "usage", "complaint"),
    "coverage": ("full", "parts_only", "none"),
    "solution": ("repair", "replace", "refund"),
    "route": ("repair_centre", "field", "provider"),
    "approval_reason": ("above_authority", "within_authority", "goodwill", "out_of_warranty_exception"),
    "escalation_reason": ("response_sla_breached", "resolution_sla_breached", "parts_overdue"),
    "product_line": ("washing_machine", "air_conditioner", "refrigerator", "tv", "router"),
    "role": ("agent", "technician", "supervisor", "warehouse", "qa"),
    "kind": ("response", "resolution"),
    "target": ("PT2H", "PT8H", "PT48H"),
}


def task_data(pick: Callable[[str], str]) -> dict[str, Any]:
    """Realistic data of a ticket at any of its user tasks, its codes chosen by ``pick``."""
    customer = {"name": "王芳", "phone": "+86 138 0013 8000", "tier": pick("tier"), "region": "east",
                "language": "zh"}
    return {
        "ticket_number": "AS-2026-000123", "channel": pick("channel"), "priority": pick("priority"),
        "customer": customer, "product": {"model": "WM-F80", "serial_number": "SN123456",
                                          "purchase_date": "2025-06-01"},
        "fault": {"category": pick("category"), "description": "洗衣机不排水"},
        "sla_warning": {"kind": pick("kind"), "target": pick("target"), "due_at": "2026-03-02T09:00:00+00:00"},
        "repeat_contact": {"channel": pick("channel"), "fault": "还是不排水"},
        "escalation_reason": pick("escalation_reason"),
        "resolution_summary": "更换了排水泵", "first_contact": {"answer": "已安排上门"},
        "entitlement": {"coverage": pick("coverage"), "reason": "in warranty", "reason_zh": "在保修期内"},
        "quote": {"quote_id": "Q-1", "total": "480.00", "currency": "CNY", "customer_pays": "0.00",
                  "covered": "480.00", "concession": "0.00"},
        "approval_reason": pick("approval_reason"),
        "solution": {"solution": pick("solution"), "route": pick("route"), "goodwill": True,
                     "warranty_exception": False, "justification": "老客户"},
        "response_clock": {"due_at": "2026-03-02T09:00:00+00:00"},
        "suggestions": {"articles": []}, "parts_needed": [{"sku": "WM-PUMP-01", "quantity": 1}],
        "repair": {"work_done": "换泵"}, "qc_failures": 1, "quality_check": {"passed": False, "findings": "漏水"},
        "consumption": {"unreserved": [{"sku": "WM-PUMP-01", "used": 1, "reserved": 0, "in_stock": 3}]},
        "product_line": pick("product_line"), "resolution_hours": 50, "target_hours": 48, "paused_hours": 2,
        "bottlenecks": [{"name": "Repair the device", "role": pick("role"), "waiting_hours": 10,
                         "working_hours": 3}],
        "service_skill": "washing_machine", "service_region": "east",
        "assignment_error": {"message": ""}, "provider_error": {"message": ""},
    }


def instructions() -> Iterator[tuple[str, str, str]]:
    """Yield (bundle, task, English instructions) of every user task that has instructions."""
    for name in BUNDLES:
        root = etree.parse(str(PROCESSES / f"{name}.bpmn")).getroot()
        for node in root.iter(f"{{{SPIFF}}}instructionsForEndUser"):
            yield name, node.getparent().getparent().get("id"), node.text or ""


CHINESE = json.loads((PROCESSES / "translations.zh.json").read_text(encoding="utf-8"))
TASKS = list(instructions())


@pytest.fixture
def deployment(deploy_fixture: Callable[..., Any], services: Services) -> int:
    """The real bundle, deployed."""
    deploy_fixture(PROCESSES)
    with services.db.transaction(write=False) as s:
        return int(s.scalar(select(func.max(Deployment.id))))


def said(app: Flask, services: Services, deployment: int, language: str, source: str,
         data: dict[str, Any]) -> str:
    """Render instructions as the task page shows them to a reader of ``language``: the text of the page."""
    with app.test_request_context(headers={"Accept-Language": language}):
        with services.db.transaction(write=False) as s:
            use_bundle_texts(reader_texts(s, language, services.settings.processes_dir / "data", deployment))
        page = str(instructions_html(source, data))
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def shown_codes(text: str, language: str) -> set[str]:
    """Return the codes of ``CODES`` that a reader sees as codes in ``text``."""
    found = set()
    for values in CODES.values():
        for code in values:
            bare = "_" in code or code.startswith("P") or language == "zh"  # a plain word is English
            if bare and re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
                found.add(code)
    return found


@pytest.mark.parametrize(("language",), [("en",), ("zh",)])
def test_every_task_says_the_codes_of_its_data_in_the_readers_words(app, services, deployment, language):
    # Given every user task's instructions in the reader's language
    assert len(TASKS) > 15
    missing = [task for _, task, _ in TASKS if language == "zh" and f"instructions:{task}" not in CHINESE]
    assert not missing, f"no Chinese instructions for {missing}"
    seen: dict[str, set[str]] = {}
    for round_ in range(max(len(v) for v in CODES.values())):
        # When each is rendered with the data of a ticket, every value of each code in turn
        data = task_data(lambda field, i=round_: CODES[field][i % len(CODES[field])])
        for name, task, english in TASKS:
            source = CHINESE[f"instructions:{task}"] if language == "zh" else english
            text = said(app, services, deployment, language, source, data)
            # Then no code shows through
            if codes := shown_codes(text, language):
                seen.setdefault(f"{name}:{task}", set()).update(codes)
    assert not seen, f"codes shown to a {language} reader: {seen}"


def test_the_escalation_reason_reads_as_words(app, services, deployment):
    # Given a ticket escalated because its response SLA was breached
    data = task_data(lambda field: CODES[field][0])
    [english] = [text for _, task, text in TASKS if task == "handle_escalation"]
    # When a supervisor reads the escalation task in English and in Chinese
    en = said(app, services, deployment, "en", english, data)
    zh = said(app, services, deployment, "zh", CHINESE["instructions:handle_escalation"], data)
    # Then the reason is said, not coded
    assert "response SLA breached" in en
    assert "首次响应超时" in zh
    assert "normal customer" in en and "普通客户" in zh.replace(" ", "")


def test_no_coverage_reads_as_not_covered_in_chinese_not_as_the_kpi_catalogues_none(app, services, deployment):
    # Given a ticket whose warranty does not cover it
    data = task_data(lambda field: CODES[field][0])
    data["entitlement"]["coverage"] = "none"
    # When the agent proposes a solution in Chinese
    zh = said(app, services, deployment, "zh", CHINESE["instructions:propose_solution"], data)
    # Then the coverage says 不在保 (the KPI catalogue's "none" = 无 is for its targets only)
    assert "保修：不在保" in zh


def test_the_sla_warning_names_its_target_as_a_duration(app, services, deployment):
    # Given a response SLA of two hours about to fall due
    data = task_data(lambda field: CODES[field][0])
    [english] = [text for _, task, text in TASKS if task == "act_on_sla_warning"]
    # When the agent reads the warning in English
    en = said(app, services, deployment, "en", english, data)
    # Then the target reads as hours and the priority in words
    assert "The response target (2 h)" in en
    assert "(urgent priority" in en
