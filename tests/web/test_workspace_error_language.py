"""A refused workspace action names its field in the reader's language: the handler's template and its values
said in Chinese, nothing written."""

from __future__ import annotations

from handlers.ticket_notes import NOTE_MAX, TicketActivity
from tests.web.conftest import TICKET
from tests.web.test_ticket_workspace_actions import count, page, ticket  # noqa: F401 (the fixture)


def test_a_too_long_note_is_refused_in_chinese_with_its_limit_and_length(signed_in, database, ticket):  # noqa: F811
    agent = signed_in("agent")
    agent.get("/lang/zh")
    page(agent)
    response = agent.post(f"/tickets/{TICKET}/notes", {"note": "长" * (NOTE_MAX + 5)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-note"' in html
    assert f"最多 {NOTE_MAX} 个字符（当前 {NOTE_MAX + 5} 个）" in html and "at most" not in html
    assert count(database, TicketActivity) == 0


def test_an_empty_note_is_refused_in_chinese(signed_in, database, ticket):  # noqa: F811
    agent = signed_in("agent")
    agent.get("/lang/zh")
    page(agent)
    html = agent.post(f"/tickets/{TICKET}/notes", {"note": "  "}).get_data(as_text=True)
    assert "此项必填" in html and "this field is required" not in html
    assert count(database, TicketActivity) == 0
