"""Every filter a process owner may use in task instructions is described in processes/README.md, with an
example that reads in English and Chinese as the guide says it does."""

from __future__ import annotations

import json
import re

import jinja2
import pytest
from flask import session

from tests.conftest import PROCESSES
from web import create_app
from web.i18n import use_bundle_texts
from web.rendering import _sandbox, instructions_html

GUIDE = (PROCESSES / "README.md").read_text(encoding="utf-8")
#: the guide's table: | `filter` | use it for | `{{ value \\| filter }}` (`example`) | English | Chinese |
ROW = re.compile(r"^\| `(?P<name>\w+)` \| [^|]+ \| `\{\{ [\w.]+ \\\| (?P=name) \}\}` \(`(?P<example>.+?)`\) "
                 r"\| (?P<en>[^|]+) \| (?P<zh>[^|]+) \|$", re.MULTILINE)
ROWS = {m["name"]: m for m in ROW.finditer(GUIDE)}


def test_every_instruction_filter_of_ours_has_a_row_in_the_guide():
    ours = set(_sandbox.filters) - set(jinja2.Environment().filters)
    assert ours <= set(ROWS), f"not described in processes/README.md: {sorted(ours - set(ROWS))}"


@pytest.mark.parametrize("name", sorted(set(_sandbox.filters) - set(jinja2.Environment().filters)))
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_guides_example_reads_as_it_says(name, language):
    row = ROWS[name]
    app = create_app({"TESTING": True, "SECRET_KEY": "guide", "DISPLAY_TIMEZONE": "Asia/Shanghai"})
    bundle = json.loads((PROCESSES / "translations.zh.json").read_text(encoding="utf-8"))
    with app.test_request_context():
        session["lang"] = language
        use_bundle_texts(bundle if language == "zh" else {})
        shown = instructions_html(f"{{{{ value | {name} }}}}", {"value": json.loads(row["example"])})
    text = re.sub(r"<[^>]+>", "", str(shown)).strip()
    assert text == row[language].strip()
