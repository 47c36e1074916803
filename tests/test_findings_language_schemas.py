"""Findings about a form's or a message's JSON schema, and the element kinds findings name, are said in Chinese.

A bundle is checked (``engine.lint.lint_bundle``) and each finding said as ``aftersales validate
--language zh`` and the owner's pages say it (``web.findings.said``): the form-schema findings are
templates with a Chinese entry, a message contract's schema finding says the form-schema finding
inside it in Chinese too, jsonschema's own words stay behind a Chinese lead, and an element kind
(``userTask``, "boundary event") reads 用户任务, 边界事件. The English messages are as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.bundle import Bundle
from engine.errors import Problem, finding
from engine.lint import lint_bundle
from web.findings import said

SIMPLE = Path(__file__).parent / "fixtures" / "simple"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _bundle(schema: object, contracts: object | None = None, bpmn: str | None = None) -> Bundle:
    files = {p.name: p.read_bytes() for p in SIMPLE.iterdir()}
    files["register.schema.json"] = json.dumps(schema).encode()
    if contracts is not None:
        files["messages.json"] = json.dumps(contracts).encode()
    if bpmn is not None:
        files["simple.bpmn"] = bpmn.encode()
    return Bundle("simple", files)


def _found(bundle: Bundle, file: str) -> list[Problem]:
    return [p for p in lint_bundle(bundle).problems if p.file == file]


@pytest.mark.parametrize(("schema", "english", "chinese"), [
    ({"type": "object", "properties": {"a": {"type": "string", "x-prefill": 3}}},
     "field a: x-prefill must be a dotted path into the instance data",
     "字段 a：x-prefill 必须是指向实例数据的点分隔路径"),
    ({"type": "object", "properties": {"sku": {"type": "string", "x-catalogue": "spares"}}},
     "field sku: unknown catalogue 'spares' in x-catalogue",
     "字段 sku：x-catalogue 中的目录 'spares' 不存在"),
    ({"type": "object", "x-rules": [{"rule": "after", "field": "a"}], "properties": {"a": {"type": "string"}}},
     "x-rules[0] (after): missing than", "x-rules[0]（after）：缺少 than"),
    ({"type": "object", "x-rules": [{"rule": "not_future", "field": "b"}], "properties": {"a": {"type": "string"}}},
     "x-rules[0] (not_future): field 'b' is not a field of the form", "field 'b' 不是表单中的字段"),
    ({"type": "array"}, 'a form schema must describe an object ("type": "object")',
     '表单 schema 必须描述一个对象（"type": "object"）'),
], ids=["prefill", "catalogue", "rule-missing", "rule-field", "not-an-object"])
def test_a_form_schema_finding_is_said_in_chinese_and_stays_english_for_the_cli(schema, english, chinese):
    (problem,) = _found(_bundle(schema), "register.schema.json")
    assert english in problem.message and english in said(problem, "en")
    assert chinese in said(problem, "zh")


def test_jsonschemas_own_words_stay_behind_a_chinese_lead():
    (problem,) = _found(_bundle({"type": "object", "properties": {"a": {"type": "strnig"}}}), "register.schema.json")
    assert problem.message.startswith("invalid JSON Schema at /properties/a/type: ")
    assert said(problem, "zh").startswith("JSON Schema 在 /properties/a/type 处无效：")
    assert "'strnig'" in said(problem, "zh")


def test_a_message_contracts_schema_finding_says_the_schema_fault_in_chinese_too():
    contracts = json.loads((SIMPLE / "messages.json").read_text())
    contracts["customer_ok"]["schema"] = {"type": "string"}
    (problem,) = [p for p in _found(_bundle({"type": "object"}, contracts), "messages.json")
                  if p.element_id == "customer_ok"]
    assert problem.message == "message 'customer_ok': a message schema must describe an object (\"type\": \"object\")"
    assert said(problem, "zh") == "消息 'customer_ok'：消息 schema 必须描述一个对象（\"type\": \"object\"）"


def test_a_contracts_file_that_breaks_its_schema_is_named_behind_a_chinese_lead():
    contracts = json.loads((SIMPLE / "messages.json").read_text())
    contracts["customer_ok"]["senders"] = "everyone"
    problems = _found(_bundle({"type": "object"}, contracts), "messages.json")
    (problem,) = [p for p in problems if p.template.startswith("the contracts do not follow")]
    assert "customer_ok/senders" in problem.message
    assert said(problem, "zh").startswith("消息契约在 customer_ok/senders 处不符合其 schema：")


@pytest.mark.parametrize(("kind", "chinese"), [
    ("userTask", "用户任务 'orphan' 永远不会运行"),
    ("exclusiveGateway", "排他网关 'orphan' 永远不会运行"),
])
def test_an_element_kind_inside_a_chinese_finding_is_said_in_chinese(kind, chinese):
    bpmn = (SIMPLE / "simple.bpmn").read_text()
    orphan = f'<bpmn:{kind} id="orphan" />'
    bpmn = bpmn.replace("</bpmn:process>", f"{orphan}</bpmn:process>", 1)
    (problem,) = [p for p in _found(_bundle({"type": "object"}, bpmn=bpmn), "simple.bpmn") if p.element_id == "orphan"]
    assert problem.message.startswith(f"{kind} 'orphan' never runs")  # English keeps the XML's name
    assert said(problem, "zh").startswith(chinese)
    assert said(problem, "en").startswith(f"{kind} 'orphan' never runs")


def test_an_event_kind_written_in_words_is_said_in_chinese():
    problem = Problem("x.bpmn", finding("compensation {kind}: aftersales does not run compensation, so nothing would "
                                        "be undone: model the undo step as an ordinary task on the path that needs it "
                                        "(after an error boundary event or a gateway)", kind="boundary event"))
    assert said(problem, "zh").startswith("补偿 边界事件：")
    assert not re.search(r"[A-Za-z]{4,}", said(problem, "zh").replace("aftersales", ""))
