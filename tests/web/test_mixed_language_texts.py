"""Pages say things in one language: no English sentence, raw code or element id inside a Chinese page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask

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
    # Given a repair that used a part nobody reserved (the handler's error, as the boundary event stores it)
    error = {"code": "NOT_RESERVED", "message": "not reserved for ticket AS-1: AC-FANMOTOR-IN (used 3, reserved 0)",
             "parts": [{"sku": "AC-FANMOTOR-IN", "used": 3, "reserved": 0}]}
    app = Flask(__name__)
    for language, expected in (("zh", "用了 3 件，预留 0 件"), ("en", "used 3, reserved 0")):
        with app.test_request_context(headers={"Accept-Language": language}):
            use_bundle_texts({})
            # When the warehouse reads the reconcile task's instructions
            html = str(instructions_html(_instructions("reconcile_used_parts", language),
                                         {"ticket_number": "AS-1", "consumption_error": error}))
        # Then the part is named once, with the reader's words, and the handler's English is not repeated
        text = re.sub(r"<[^>]+>", "", html)
        assert text.count("AC-FANMOTOR-IN") == 1, text
        assert expected in text
        assert "(used 3" not in text
