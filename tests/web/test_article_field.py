"""The knowledge article an agent used is picked from the published articles; an id that is none of them is
refused on its field (参考的知识库文章) with nothing changed."""

from __future__ import annotations

import html

import pytest

from tests.support.trail import audit_event_count
from tests.web.conftest import open_tasks


@pytest.mark.parametrize(("language", "words"), [("en", "Not in the catalogue: choose one of the options."),
                                                 ("zh", "目录中没有此项，请从选项中选择。")])
def test_an_article_that_does_not_exist_is_refused_on_its_field(desk, signed_in, services, language, words):
    case = desk.open_case()
    case.register()
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "respond_to_customer"]
    ann = signed_in("agent")
    ann.get(f"/lang/{language}")
    page = html.unescape(ann.get(f"/tasks/{task.task_id}").get_data(as_text=True))
    assert '<select id="f-article_id" name="article_id"' in page and '<option value="1"' in page
    before = audit_event_count(services)
    answer = "Please clean the filter and try again"
    response = ann.post(f"/tasks/{task.task_id}", {"answer": answer, "article_id": "999999"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and 'id="f-article_id-error"' in page and f">{words}</span>" in page
    assert answer in page and '<option value="999999" selected' in page
    assert audit_event_count(services) == before and case.ready() == ["respond_to_customer"]
    # a real article is taken
    assert ann.post(f"/tasks/{task.task_id}", {"answer": answer, "article_id": "1"}).status_code == 302
    assert "respond_to_customer" not in case.ready()
