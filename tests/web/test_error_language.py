"""An engine error reaches a person in their language: its template from the catalogue, its names too."""

from __future__ import annotations

import pytest
from flask import session as flask_session

from engine.errors import TaskClaimed
from engine.identity import actor_for
from tests.web.conftest import open_tasks
from web.rendering import error_text


def test_a_refused_claim_is_explained_in_the_readers_language(signed_in, services, repair_ticket):
    [task] = open_tasks(services)
    agent = signed_in("agent")
    agent.get("/tasks")
    english = agent.post(f"/tasks/{task.task_id}/claim")
    assert english.status_code == 403
    assert "agent may not work on" in english.get_data(as_text=True)
    agent.get("/lang/zh")
    chinese = agent.post(f"/tasks/{task.task_id}/claim")
    text = chinese.get_data(as_text=True)
    assert chinese.status_code == 403
    assert "agent 不能处理「" in text and "may not work on" not in text  # the user name stays as it is
    assert "需要角色「技术员」" in text  # the role is named in Chinese
    assert open_tasks(services)[0].assignee is None  # nothing changed


def test_a_task_held_by_a_colleague_is_said_in_chinese_with_the_holders_name(app, signed_in, services,
                                                                            repair_ticket, make_user):
    [task] = open_tasks(services)
    make_user("tech2", "technician")
    first = signed_in("technician")
    first.get("/tasks")
    assert first.post(f"/tasks/{task.task_id}/claim").status_code == 302
    with services.db.transaction() as s, pytest.raises(TaskClaimed) as refused:
        services.runtime.claim(s, task.task_id, actor_for(s, "tech2"))

    with app.test_request_context("/"):
        flask_session["lang"] = "zh"
        assert error_text(refused.value) == f"任务「{task.name}」已被 technician 认领"
    assert refused.value.to_dict()["params"] == {"task": task.name, "user": "technician"}
