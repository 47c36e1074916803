"""The workbench says why a JSON file does not parse in the owner's language, with the line and column
(the browser's own message is English: "Expected property name or '}' in JSON at position 1")."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "web" / "frontend" / "src" / "i18n.js"
#: stands in for the page (its <html lang> and the #ui-texts catalogue), then parses each text as the editor does
SCRIPT = """
const page = {textContent: process.argv[2]};
globalThis.document = {documentElement: {lang: process.argv[1]}, getElementById: () => page};
const {jsonError} = await import(process.argv[3]);
const said = [];
for (const text of JSON.parse(process.argv[4])) {
  try { JSON.parse(text); said.push(null); } catch (err) { said.push(jsonError(text, err)); }
}
console.log(JSON.stringify(said));
"""


def _said(language: str, texts: list[str]) -> list[str | None]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to run the editor's script")
    with (ROOT / "web" / "translations" / "zh" / "LC_MESSAGES" / "js.po").open("rb") as po:
        catalogue = {m.id: m.string for m in read_po(po) if m.id and m.string} if language == "zh" else {}
    done = subprocess.run([node, "--no-warnings", "--input-type=module", "-e", SCRIPT, language,
                           json.dumps(catalogue), I18N.as_uri(), json.dumps(texts)],
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize(("language", "expected"), [
    ("zh", ["JSON 无效：第 3 行第 3 列有语法错误。", "JSON 无效：内容提前结束（有括号或引号未闭合）。", None]),
    ("en", ["Not valid JSON: a syntax error at line 3, column 3.",
            "Not valid JSON: the text ends too early (a bracket or a quote is not closed).", None]),
])
def test_a_json_syntax_error_is_said_with_its_line_and_column(language, expected) -> None:
    assert _said(language, ['{\n  "a": 1,\n  bad\n}', '{"a": [1, 2', '{"a": 1}']) == expected
