"""The migrate page names tickets by number and the elements they wait at by name, never by engine internals."""

from __future__ import annotations

import html
import re

from tests.owner.test_run_migrate import at_review  # noqa: F401 (three tickets waiting at review on v1, and v2)


def _cells(page: str, table_start: str) -> str:
    start = page.index(table_start)
    return page[start:page.index("</table>", start)]


def test_waiting_tasks_and_the_dry_run_name_tickets_and_elements_in_words(signed_in, at_review) -> None:  # noqa: F811
    _v1, v2, ids = at_review
    owner = signed_in("process_owner")
    # When the owner lists the running tickets
    page = html.unescape(owner.get("/owner/migrate").get_data(as_text=True))
    picked = _cells(page, 'id="migrate-pick"')
    # Then each waits at its task by the task's name
    assert '<span data-element="review">Review</span>' in picked
    assert not re.search(r"<code[^>]*>review</code>", picked)
    # When the owner dry-runs two of them
    query = "&".join(f"instance_ids={i}" for i in ids[:2])
    page = html.unescape(owner.get(f"/owner/migrate?dry_run_to={v2}&{query}").get_data(as_text=True))
    verdicts = _cells(page, 'id="verdicts"')
    # Then each verdict names the ticket by its number and where it waits by name, no engine internals
    assert "<td>T-1</td>" in verdicts and "<td>T-2</td>" in verdicts and f"#{ids[0]}" not in verdicts
    assert "Review" in verdicts and "EndJoin" not in verdicts and "simple.Start" not in verdicts
