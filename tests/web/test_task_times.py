"""Date-times on a task's form are shown in the business time zone and read back in it, so a
form submitted as shown keeps the moment it held."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import WEB_FIXTURES, open_tasks


def test_a_date_time_is_shown_in_the_business_zone_and_kept_when_submitted_unchanged(
        signed_in, services, deploy_fixture, app):
    # Given a task whose form holds a visit at 02:00 UTC, shown to a department in Shanghai
    app.config["DISPLAY_TIMEZONE"] = "Asia/Shanghai"
    deploy_fixture(WEB_FIXTURES / "visit")
    with services.db.transaction() as s:
        services.runtime.start(s, "visit", {"visit_at": "2026-03-02T02:00:00+00:00"}, "V-1", "agent")
    task = open_tasks(services, "V-1")[0]
    agent = signed_in("agent")
    agent.post(f"/tasks/{task.task_id}/claim")

    # When the agent opens the task
    html = agent.get(f"/tasks/{task.task_id}").get_data(as_text=True)

    # Then the input shows 10:00, the time in Shanghai
    shown = re.search(r'name="visit_at"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="visit_at"', html)
    assert shown, html
    assert (shown.group(1) or shown.group(2)).startswith("2026-03-02T10:00")

    # And submitting what is shown keeps the same moment
    response = agent.post(f"/tasks/{task.task_id}", {"visit_at": shown.group(1) or shown.group(2)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with services.db.transaction(write=False) as s:
        done = s.scalars(select(AuditEvent).where(AuditEvent.task_id == task.task_id,
                                                  AuditEvent.kind == "task.completed")).one()
    stored = datetime.fromisoformat(str(done.data["form"]["visit_at"]))
    assert stored == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
