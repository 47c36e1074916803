"""``GET /api/v1/tasks/<id>/form``: the task's form, translated, with its data masked for the
caller — for callers holding ``tasks:read`` whom the task's lane admits."""

from __future__ import annotations

import pytest

from tests.web.conftest import CUSTOMER, open_tasks


@pytest.fixture
def repair_task(services, repair_ticket) -> str:
    """The technician's ready repair task."""
    return open_tasks(services, repair_ticket)[0].task_id


def form(app, task_id, headers, query=""):
    return app.test_client().get(f"/api/v1/tasks/{task_id}/form{query}", headers=headers)


def test_a_technician_key_reads_the_repair_form_with_its_data_and_the_e_mail_masked(app, api_key, repair_task):
    response = form(app, repair_task, api_key("tasks:read", roles=("technician",)))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["task_id"] == repair_task and body["role"] == "technician" and body["language"] == "en"
    assert body["schema"]["title"] == "Repair record"
    assert body["schema"]["properties"]["outcome"]["enumNames"] == ["repaired", "replaced", "not repairable"]
    assert body["ui_schema"]["work_done"]["ui:help"] == "Say what you did, for the next person."
    assert body["data"]["product"]["serial_number"] == "SN-0042"
    assert body["data"]["customer"]["email"] != CUSTOMER["email"]  # technicians call and visit; they do not mail


@pytest.mark.parametrize(("query", "headers"), [("?lang=zh", {}), ("", {"Accept-Language": "zh-CN,zh;q=0.9"}),
                                                ("?lang=zh", {"Accept-Language": "en"})],
                         ids=["lang", "accept-language", "lang wins"])
def test_the_form_comes_in_the_requested_language(app, api_key, repair_task, query, headers):
    response = form(app, repair_task, {**api_key("tasks:read", roles=("technician",)), **headers}, query)
    body = response.get_json()
    assert body["language"] == "zh" and response.headers["Content-Language"] == "zh"
    assert body["schema"]["title"] == "维修记录"
    assert body["schema"]["properties"]["work_done"]["title"] == "维修内容"
    assert body["schema"]["properties"]["outcome"]["enumNames"][0] == "已修复"
    assert body["schema"]["properties"]["outcome"]["enum"] == ["repaired", "replaced", "not_repairable"]
    assert body["ui_schema"]["work_done"]["ui:help"] == "写下您做了什么，方便后续同事。"


def test_an_unknown_language_is_refused_naming_lang(app, api_key, repair_task):
    response = form(app, repair_task, api_key("tasks:read", roles=("technician",)), "?lang=fr")
    assert response.status_code == 400 and response.get_json()["field"] == "lang"


@pytest.mark.parametrize(("scopes", "roles", "status"), [
    (("tasks:write", "instances:read"), ("technician",), 403),  # no tasks:read
    (("tasks:read",), ("warehouse",), 403),                      # not the technician lane
    (None, None, 401),                                           # no key
])
def test_the_form_is_refused_without_the_scope_the_lane_or_a_key(app, api_key, repair_task, scopes, roles, status):
    headers = api_key(*scopes, roles=roles) if scopes else {}
    response = form(app, repair_task, headers)
    assert response.status_code == status
    assert "schema" not in response.get_json()


def test_an_unknown_task_is_404(app, api_key, repair_ticket):
    headers = api_key("tasks:read", roles=("technician",))
    assert form(app, "00000000-0000-4000-8000-000000000000", headers).status_code == 404
    assert form(app, "not-a-task", headers).status_code == 404
