"""The owner's deploy page says validation findings in the reader's language, element ids as they are."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _broken_bundle() -> bytes:
    """simple.bpmn with a flow to nowhere and a misspelt spiff extension."""
    text = (FIXTURES / "simple" / "simple.bpmn").read_text()
    text = text.replace('targetRef="echo_task"', 'targetRef="nowhere"')
    return text.replace("spiffworkflow:instructionsForEndUser", "spiffworkflow:instructionForEndUser").encode()


def _problem_cells(html: str) -> list[str]:
    return re.findall(r'<tr class="problem.*?</tr>', html, re.S)


def _validated_by(client, language: str, content: bytes | None = None) -> str:
    client.get(f"/lang/{language}")
    client.get("/owner/deploy")
    response = client.post("/owner/deploy", {"name": "simple", "action": "validate",
                                             "files": [(io.BytesIO(content or _broken_bundle()), "simple.bpmn")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("language", "flow_text", "extension_text", "severity", "check"), [
    ("zh", "顺序流 &#39;f2&#39; 的 targetRef 为 &#39;nowhere&#39;，它不是 &#39;simple&#39; 中的元素",
     "未知扩展 spiffworkflow:instructionForEndUser；您是不是指 instructionsForEndUser？", "错误", "顺序流"),
    ("en", "sequence flow &#39;f2&#39; has targetRef &#39;nowhere&#39;, which is not an element of &#39;simple&#39;",
     "unknown extension spiffworkflow:instructionForEndUser; did you mean instructionsForEndUser?", "error",
     "sequence flows"),
])
def test_a_broken_bundle_validated_by_an_owner_lists_findings_in_the_owner_language(signed_in, language, flow_text,
                                                                                    extension_text, severity, check):
    html = _validated_by(signed_in("process_owner"), language)
    rows = _problem_cells(html)
    flow = next(row for row in rows if 'data-element="f2"' in row)
    assert flow_text in flow and f"{severity}: " in flow and ">f2<" in flow
    assert f"<td>{check}</td>" in flow  # the check it comes from in words, not its code ("flows")
    assert any(extension_text in row for row in rows)
    if language == "zh":
        assert "which is not an element of" not in html and "did you mean" not in html


def test_a_library_text_stays_as_the_library_wrote_it_behind_a_translated_lead(signed_in):
    html = _validated_by(signed_in("process_owner"), "zh", b"<bpmn:definitions><unclosed></bpmn:definitions>")
    row = next(row for row in _problem_cells(html) if "XML 格式不正确：" in row)
    assert "not well-formed XML" not in row and re.search(r"XML 格式不正确：[A-Za-z]", row)


def test_the_json_answer_keeps_the_english_message_and_adds_the_reader_text_for_the_page_script(signed_in):
    owner = signed_in("process_owner")
    owner.get("/lang/zh")
    owner.get("/owner/deploy")
    body = owner.post("/owner/deploy", {"name": "simple", "files": [(io.BytesIO(_broken_bundle()), "simple.bpmn")]},
                      content_type="multipart/form-data", headers={"Accept": "application/json"}).get_json()
    flow = next(p for p in body["problems"] if p["element_id"] == "f2")
    assert flow["message"] == "sequence flow 'f2' has targetRef 'nowhere', which is not an element of 'simple'"
    assert flow["localized_message"] == "顺序流 'f2' 的 targetRef 为 'nowhere'，它不是 'simple' 中的元素"
