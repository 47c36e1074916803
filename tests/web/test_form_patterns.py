"""Every ``pattern`` of every form works in the browser, not only on the server.

Chromium compiles an input's ``pattern`` as ``^(?:pattern)$`` with the ``v`` flag; a pattern
that does not compile there is silently ignored, so the browser lets anything through.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.handlers_for_tests  # noqa: F401
from tests.conftest import FIXTURES
from tests.web.live import chromium, live_site, shot, sign_in

ROOT = Path(__file__).parents[2]
FORM_FILES = sorted([*ROOT.glob("processes/forms/*.json"), *ROOT.glob("web/forms/*.json")])
#: a value each pattern of our forms must refuse (phone, SKU, model, codes)
BAD = "Bad value!"


def patterns_of(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Yield ``(where, pattern)`` for every ``pattern`` keyword in a form."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield where, value
            else:
                yield from patterns_of(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from patterns_of(value, f"{where}/{index}")


PATTERNS = [found for path in FORM_FILES
            for found in patterns_of(json.loads(path.read_text()), str(path.relative_to(ROOT)))]
CHECK = """
const patterns = JSON.parse(require("fs").readFileSync(0, "utf8"));
const broken = [];
for (const [where, p] of patterns) {
  try { new RegExp(p, "v"); new RegExp("^(?:" + p + ")$", "v"); }
  catch (e) { broken.push(where + ": " + e.message); }
}
console.log(JSON.stringify(broken));
"""


def test_the_forms_have_patterns_to_check():
    wheres = " ".join(where for where, _ in PATTERNS)
    assert "register_request" in wheres and "intake.schema" in wheres and "sku" in wheres


def test_every_pattern_of_every_form_compiles_with_the_v_flag():
    result = subprocess.run(["node", "-e", CHECK], input=json.dumps(PATTERNS), capture_output=True,
                            text=True, check=True)
    assert json.loads(result.stdout) == []


@pytest.mark.browser
def test_chromium_applies_every_pattern_to_its_input():
    # Given one input per pattern of the forms, as the form renderer writes it
    inputs = "".join(f'<input name="p{i}" pattern="{p.replace(chr(34), "&quot;")}">'
                     for i, (_, p) in enumerate(PATTERNS))
    with chromium() as context:
        page = context.new_page()
        page.set_content(f"<form>{inputs}</form>")
        # When each holds a value none of them allows
        page.eval_on_selector_all("input", f"els => els.forEach(e => e.value = {json.dumps(BAD)})")
        mismatched = page.eval_on_selector_all("input", "els => els.map(e => e.validity.patternMismatch)")
    # Then Chromium flags every one (a pattern it cannot compile would never mismatch)
    assert dict(zip([w for w, _ in PATTERNS], mismatched, strict=True)) == {w: True for w, _ in PATTERNS}


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The simple process (so the built-in intake form is used) and an agent, on loopback."""
    with live_site(tmp_path, sqlite_template, [FIXTURES / "simple"], {"ann": ["agent"]},
                   {"INTAKE_PROCESS": "simple"}) as served:
        yield served


@pytest.mark.browser
def test_chromium_refuses_a_phone_number_that_is_not_one_before_sending(site):
    from sqlalchemy import func, select

    from engine.models import Instance

    base, services = site
    with chromium() as context:
        page = context.new_page()
        sign_in(page, base, "ann")
        # Given the intake form with a phone number made of words
        page.goto(f"{base}/requests/new")
        page.fill("[name='customer.name']", "Li Lei")
        page.fill("[name='customer.phone']", "call me")
        page.fill("[name='product.serial_number']", "SN-12345")
        page.fill("[name='fault.description']", "It leaks")
        # When the agent submits
        page.click("form button[type=submit] >> nth=-1")
        # Then the browser refuses the phone field itself and nothing reaches the server
        phone = page.locator("[name='customer.phone']")
        assert phone.evaluate("e => e.validity.patternMismatch && !e.checkValidity()")
        assert page.url == f"{base}/requests/new"
        shot(page, "intake-phone-refused-by-browser")
        page.fill("[name='customer.phone']", "+86 (10) 1234-5678")
        assert not page.eval_on_selector("[name='customer.phone']", "e => e.validity.patternMismatch")
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0
