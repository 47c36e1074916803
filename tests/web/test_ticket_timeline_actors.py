"""The ticket page's timeline names the system's own actors in the reader's language."""

from __future__ import annotations

import re


def test_a_chinese_timeline_says_system_and_customer_in_chinese(desk, signed_in):
    # Given a registered repair: the system notified the customer
    case = desk.open_case().register()
    # When a Chinese agent opens the ticket
    agent = signed_in("agent")
    agent.get("/lang/zh?next=/tasks")
    page = agent.get(f"/tickets/{case.ticket_number}").get_data(as_text=True)
    # Then the timeline's notifications are the system's (系统), not 'system'; people keep their user names
    timeline = page[page.index('id="timeline"'):]
    who = [re.sub(r"<[^>]+>", "", w).strip() for w in re.findall(r'<span class="who">(.*?)</span>\s', timeline)]
    assert "系统" in who and "system" not in who
    assert "ann" in who


def test_a_visit_s_dispatch_reads_in_chinese_on_the_ticket_and_task_pages(desk, signed_in, services, make_user):
    from sqlalchemy import select

    from handlers.dispatch import Technician
    from tests.web.conftest import open_tasks

    # Given a visit a supervisor booked by hand: the on-site task was given to its technician by the system
    make_user("tech.wang", "technician")
    with services.db.transaction() as s:
        for tech in s.scalars(select(Technician).where(Technician.region == "east")):
            tech.leave = [{"from": "2026-03-01", "to": "2026-03-04"}]
    case = desk.open_case().register().respond().assist()
    case.complete("assign_technician_manually", {
        "technician": "tech.wang", "name": "Wang Lei", "reason": "Back from leave on Thursday",
        "appointment": {"start": "2026-03-05T10:00:00+08:00", "end": "2026-03-05T12:00:00+08:00"}})
    [task] = [t for t in open_tasks(services, case.ticket_number) if t.element_id == "inspect_on_site"]
    # When a Chinese supervisor reads the ticket and the task
    supervisor = signed_in("supervisor")
    supervisor.get("/lang/zh?next=/tasks")
    for url in (f"/tickets/{case.ticket_number}", f"/tasks/{task.task_id}"):
        page = supervisor.get(url).get_data(as_text=True)
        # Then the reassignment says why in Chinese
        assert "派工自动分配" in page and "dispatched visit" not in page, url
