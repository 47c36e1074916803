"""``/admin/teams``: the teams (regions), skills and hours dispatch chooses technicians by."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from handlers.dispatch import Technician, load_technicians
from handlers.teams import SHIPPED


@pytest.fixture
def technicians(services):
    with services.db.transaction() as s:
        load_technicians(s, json.loads(SHIPPED.read_text(encoding="utf-8")))


def _tech(services, username):
    with services.db.transaction(write=False) as s:
        t = s.get(Technician, username)
        return None if t is None else (t.region, sorted(t.skills), t.working_hours, t.active)


WANG = {"username": "tech.wang", "name": "Wang Lei", "region": "east", "skills": ["washing_machine", "refrigerator"],
        "days": ["1", "2", "3", "4", "5", "6"], "start": "08:30", "end": "17:30", "active": "1"}


def test_the_admin_moves_a_technician_to_another_team_with_a_new_skill(signed_in, services, technicians):
    admin = signed_in("admin")
    page = admin.get("/admin/teams").get_data(as_text=True)
    assert "tech.wang" in page and "Wang Lei" in page
    response = admin.post("/admin/teams/technicians", {**WANG, "region": "north", "skills": ["refrigerator", "tv"]})
    assert response.status_code == 302
    assert _tech(services, "tech.wang")[:2] == ("north", ["refrigerator", "tv"])
    with services.db.transaction(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.stream == "teams")).one()
    assert event.actor == "admin" and event.kind == "technician.updated"
    assert event.data["changes"]["region"] == ["east", "north"]


def test_a_new_team_and_a_technician_in_it(signed_in, services, technicians):
    admin = signed_in("admin")
    admin.get("/admin/teams")
    assert admin.post("/admin/teams/catalogue", {"kind": "regions", "code": "west", "name": "West",
                                                 "name_zh": "西部"}).status_code == 302
    assert "西部" in admin.get("/admin/teams", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    duplicate = admin.post("/admin/teams/catalogue", {"kind": "regions", "code": "west", "name": "West"})
    assert duplicate.status_code == 422 and 'id="err-cat-code"' in duplicate.get_data(as_text=True)
    new = {**WANG, "username": "tech.ma", "name": "Ma Li", "region": "west", "skills": ["tv"], "new": "1"}
    assert admin.post("/admin/teams/technicians", new).status_code == 302
    assert _tech(services, "tech.ma") == ("west", ["tv"], {"days": [1, 2, 3, 4, 5, 6], "start": "08:30",
                                                            "end": "17:30"}, True)


def test_bad_team_data_is_refused_on_its_fields_and_nothing_changes(signed_in, services, technicians):
    admin = signed_in("admin")
    admin.get("/admin/teams")
    before = _tech(services, "tech.wang")
    response = admin.post("/admin/teams/technicians", {**WANG, "region": "mars", "skills": [], "days": [],
                                                       "start": "18:00", "end": "09:00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field, text in (("tech-wang-region", "&#39;mars&#39; is not a region of the catalogue"),
                        ("tech-wang-skills", "choose at least one skill"),
                        ("tech-wang-days", "choose the working days"),
                        ("tech-wang-end", "the day must end after it starts")):
        assert f'id="err-{field}"' in page and text in page, field
    assert _tech(services, "tech.wang") == before
    taken = admin.post("/admin/teams/technicians", {**WANG, "new": "1"})
    assert taken.status_code == 422 and "technician &#39;tech.wang&#39; exists already" in taken.get_data(as_text=True)
