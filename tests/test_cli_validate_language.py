"""``aftersales validate --language zh`` says the findings in Chinese; ``--json`` stays English."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def _broken(tmp_path: Path) -> Path:
    bundle = tmp_path / "broken"
    bundle.mkdir()
    text = (FIXTURES / "simple" / "simple.bpmn").read_text().replace('targetRef="echo_task"', 'targetRef="nowhere"')
    (bundle / "simple.bpmn").write_text(text)
    return bundle


def test_validate_in_chinese_names_file_element_and_fault_in_chinese(cli, tmp_path):
    cli("db", "upgrade")
    out = cli("validate", str(_broken(tmp_path)), "--language", "zh", code=2).stdout
    line = next(row for row in out.splitlines() if "[f2]" in row)
    assert line.startswith("simple.bpmn:") and "顺序流 'f2' 的 targetRef 为 'nowhere'，它不是 'simple' 中的元素" in line


def test_validate_says_english_by_default_and_json_keeps_english_whatever_the_language(cli, tmp_path):
    cli("db", "upgrade")
    bundle = str(_broken(tmp_path))
    assert "sequence flow 'f2' has targetRef 'nowhere', which is not an element of 'simple'" in \
        cli("validate", bundle, code=2).stdout
    body = json.loads(cli("validate", bundle, "--json", "--language", "zh", code=2).stdout)
    flow = next(p for p in body["problems"] if p["element_id"] == "f2")
    assert flow["message"] == "sequence flow 'f2' has targetRef 'nowhere', which is not an element of 'simple'"


def test_validate_refuses_a_language_it_does_not_speak(cli, tmp_path):
    result = cli("validate", str(_broken(tmp_path)), "--language", "fr", code=2)
    assert "--language" in result.stderr
