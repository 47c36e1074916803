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
