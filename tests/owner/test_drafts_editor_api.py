"""What the editor asks of the server: operators, pick lists, form previews and tries, translations, pages."""

from __future__ import annotations

import json
import re

import pytest

from tests.owner.drafts_support import Api, deploy_repair

REPAIR_FORM = {"title": "Repair record", "type": "object", "required": ["work_done"],
               "properties": {"work_done": {"title": "What was done", "type": "string", "minLength": 3},
                              "labour_hours": {"title": "Labour hours", "type": "number", "minimum": 0}}}


@pytest.fixture
def api(signed_in):
    """The workbench API as the process owner."""
    return Api(signed_in("process_owner"))


@pytest.fixture
def draft(api, database):
    """A draft of version 1 of bundle ``repair``."""
    return api.new_draft("Faster repair", deploy_repair(database))


def test_operators_come_from_the_handler_registry_with_typed_parameters(api):
    operators = {o["name"]: o for o in api.get("/owner/api/operators").get_json()}
    stock = operators["test.check_stock"]
    assert stock["doc"] == "Refuse SKUs starting with OUT as out of stock (a business error)."
    assert stock["parameters"] == [
        {"name": "sku", "type": "str", "required": True, "default": None, "doc": ""},
        {"name": "quantity", "type": "int", "required": False, "default": 1, "doc": ""},
    ]
    reserve = operators["parts.reserve"]  # wrapped by @idempotent: the handler's own signature still shows
    assert [(p["name"], p["type"]) for p in reserve["parameters"]] == \
        [("ticket_number", "str"), ("parts", "list[dict[str, Any]]")]


def test_the_bundle_index_lists_what_the_draft_defines(api, draft):
    index = api.get(f"/owner/api/bundle-index?draft={draft['id']}").get_json()
    assert index["processes"] == ["web_repair"] and "quote_approver" in index["decisions"]
    assert "repair.schema.json" in index["forms"] and "repair.uischema.json" not in index["forms"]
    assert index["roles"] == ["supervisor", "system", "technician"]
    assert api.get("/owner/api/bundle-index?draft=x").get_json()["field"] == "draft"
    assert api.get("/owner/api/bundle-index?draft=999").status_code == 404


def test_a_form_preview_is_the_staff_form(api):
    response = api.post("/owner/api/forms/preview", {"schema": REPAIR_FORM, "uischema": {
        "work_done": {"ui:widget": "textarea"}}, "data": {"labour_hours": 2}})
    html = response.get_json()["html"]
    assert 'name="work_done"' in html and "<textarea" in html and "What was done" in html
    assert re.search(r'name="labour_hours"[^>]*value="2"', html)
    refused = api.post("/owner/api/forms/preview", {"schema": {"type": "array"}})
    assert refused.status_code == 400 and refused.get_json()["field"] == "schema"


def test_a_form_preview_in_chinese_uses_the_drafts_own_translations(api, draft):
    body = {"schema": REPAIR_FORM, "lang": "zh", "draft": draft["id"]}
    html = api.post("/owner/api/forms/preview", body).get_json()["html"]
    assert "维修内容" in html and "What was done" not in html
    assert api.post("/owner/api/forms/preview", {**body, "lang": "fr"}).get_json()["field"] == "lang"


def test_trying_a_form_reports_every_field_the_server_refuses(api):
    tried = api.post("/owner/api/forms/try", {"schema": REPAIR_FORM, "data": {"work_done": "x", "labour_hours": -1}})
    result = tried.get_json()
    assert result["ok"] is False
    assert {e["field"] for e in result["errors"]} == {"work_done", "labour_hours"}
    good = api.post("/owner/api/forms/try", {"schema": REPAIR_FORM, "data": {"work_done": "Replaced screen"}})
    assert good.get_json() == {"ok": True, "errors": [], "data": {"work_done": "Replaced screen"}}
    assert api.post("/owner/api/forms/try", {"schema": REPAIR_FORM, "data": []}).get_json()["field"] == "data"


def test_translations_list_the_texts_and_count_the_missing(api, draft):
    zh = api.get(f"/owner/api/drafts/{draft['id']}/translations/zh").get_json()
    entries = {e["key"]: e for e in zh["entries"]}
    assert entries["Repair record"]["text"] == "维修记录"
    assert entries["Labour hours"]["text"] is None and "repair.schema.json" in entries["Labour hours"]["where"]
    assert zh["missing"] == sum(1 for e in zh["entries"] if e["text"] is None) > 0
    # When the owner adds a translation, one fewer is missing
    url = f"/owner/api/drafts/{draft['id']}/files/translations.zh.json"
    table = json.loads(api.get(url).data)
    api.put(url, json.dumps({**table, "Labour hours": "工时"}, ensure_ascii=False).encode())
    after = api.get(f"/owner/api/drafts/{draft['id']}/translations/zh").get_json()
    assert after["missing"] == zh["missing"] - 1
    assert api.get(f"/owner/api/drafts/{draft['id']}/translations/en").get_json()["missing"] == 0
    assert api.get(f"/owner/api/drafts/{draft['id']}/translations/x!").get_json()["field"] == "lang"


@pytest.mark.parametrize(("lang", "heading", "button"), [("en", "Workbench", "New draft from this version"),
                                                         ("zh", "工作台", "从此版本新建草稿")])
def test_the_workbench_page_lists_drafts_and_versions_in_both_languages(api, draft, lang, heading, button):
    api.client.get(f"/lang/{lang}")
    html = api.client.get("/owner/workbench").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html and button in html
    assert "Faster repair" in html and f'data-deployment="{draft["base_deployment_id"]}" class="current"' in html
    assert 'href="/owner/workbench"' in html  # the nav links it


def test_a_draft_started_from_the_page_without_javascript_opens_in_the_editor(api, database):
    deployment_id = deploy_repair(database)
    page = api.browser.get("/owner/workbench")
    assert page.status_code == 200
    response = api.browser.post("/owner/workbench/drafts", {"from_deployment_id": str(deployment_id),
                                                            "name": "repair v1"})
    assert response.status_code == 303 and re.search(r"/owner/drafts/\d+/edit$", response.headers["Location"])
    editor = api.client.get(response.headers["Location"]).get_data(as_text=True)
    config = json.loads(re.search(r'id="workbench-config">(.*?)</script>', editor, re.S).group(1))
    assert config["draft"]["name"] == "repair v1" and config["urls"]["validate"].endswith("/validate")
    assert {"path": "customer.bpmn", "kind": "bpmn"} in [{k: f[k] for k in ("path", "kind")}
                                                         for f in config["draft"]["files"]]
    assert config["deployments"] == [{"id": deployment_id, "name": "repair", "version": 1, "current": True}]


def test_a_zip_uploaded_from_the_page_becomes_a_new_draft(api, database):
    import io

    from engine.drafts import zip_files

    api.browser.get("/owner/workbench")
    body = {"name": "From my laptop", "bundle": "laptop", "csrf_token": api.browser.token,
            "files": (io.BytesIO(zip_files({"notes.md": b"# hi\n"})), "laptop.zip")}
    response = api.client.post("/owner/workbench/drafts", data=body, content_type="multipart/form-data")
    assert response.status_code == 303
    [made] = api.get("/owner/api/drafts").get_json()
    assert made["name"] == "From my laptop" and made["bundle"] == "laptop"
    assert api.get(f"/owner/api/drafts/{made['id']}/files/notes.md").data == b"# hi\n"
