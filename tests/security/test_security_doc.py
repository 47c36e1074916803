"""docs/security.md says what the access table declares, and links the privacy page."""

from __future__ import annotations

from pathlib import Path

from tests.security.access_table import ROLES, capability_table, scope_table
from web.access import STAFF
from web.security import CSP

DOC = Path(__file__).parents[2] / "docs" / "security.md"


def test_the_role_and_capability_table_of_the_docs_is_the_access_table():
    text = DOC.read_text(encoding="utf-8")
    assert capability_table() in text, "regenerate it: python -m tests.security.access_table"
    assert scope_table() in text, "regenerate it: python -m tests.security.access_table"


def test_the_docs_name_the_headers_sent_and_how_to_report_a_problem():
    text = DOC.read_text(encoding="utf-8")
    assert CSP in text
    assert "## Reporting a problem" in text and "(privacy.md)" in text


def test_the_table_knows_every_staff_role():
    assert set(ROLES) == STAFF
