"""Drafts through the JSON API: created from a version or empty, files saved one at a time, hostile input refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.drafts import DraftFile, check_path
from engine.errors import InvalidInput
from engine.models import Instance
from tests.owner.drafts_support import DMN, Api, deploy_repair


@pytest.fixture
def api(signed_in):
    """The workbench API as the process owner."""
    return Api(signed_in("process_owner"))


@pytest.fixture
def deployed(database):
    """Version 1 of bundle ``repair``."""
    return deploy_repair(database)


def file_count(database, draft_id):
    with database.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(DraftFile).where(DraftFile.draft_id == draft_id))


def test_a_draft_from_a_version_copies_its_files_and_leaves_running_tickets_alone(api, deployed, database):
    # Given version 1 of the repair bundle
    # When the owner starts a draft from it
    draft = api.new_draft("Faster repair", deployed)
    # Then the draft holds every file of the version, by kind, and names its base and who saved it
    paths = {f["path"]: f["kind"] for f in draft["files"]}
    assert paths["customer.bpmn"] == "bpmn" and paths["quote_approval.dmn"] == "dmn"
    assert paths["repair.schema.json"] == "json" and draft["base_deployment_id"] == deployed
    assert draft["bundle"] == "repair" and draft["updated_by"] == "process_owner"
    # And the list shows it; a second draft of the same version lives beside it
    api.new_draft("Cheaper repair", deployed)
    listed = api.get("/owner/api/drafts").get_json()
    assert [d["name"] for d in listed] == ["Cheaper repair", "Faster repair"]
    # And nothing that runs changed: no instance, no new version
    with database.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0


def test_files_are_saved_read_and_deleted_one_at_a_time(api):
    # Given an empty draft of a new bundle
    draft = api.new_draft("New bundle", bundle="warranty")
    assert draft["files"] == [] and draft["base_deployment_id"] is None
    url = f"/owner/api/drafts/{draft['id']}/files/decisions/quote.dmn"
    # When a file is saved (autosave), read back, replaced and deleted
    saved = api.put(url, DMN)
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    got = api.get(url)
    assert got.data == DMN and got.mimetype == "text/plain"
    api.put(url, DMN.replace(b"supervisor", b"manager"))
    assert b"manager" in api.get(url).data
    files = api.get(f"/owner/api/drafts/{draft['id']}").get_json()["files"]
    assert files[0]["path"] == "decisions/quote.dmn" and files[0]["saved_by"] == "process_owner"
    assert api.delete(url).get_json() == {"deleted": True}
    # Then it is gone, and reading or deleting it again says which file is missing
    missing = api.get(url)
    assert missing.status_code == 404 and "decisions/quote.dmn" in missing.get_json()["message"]
    assert api.delete(url).status_code == 404


@pytest.mark.parametrize(("path", "why"), [
    ("../outside.bpmn", "inside the bundle"),
    ("forms/../../outside.json", "inside the bundle"),
    ("/etc/passwd.json", "relative"),
    ("C:/windows/win.json", "relative"),
    ("forms\\..\\..\\x.json", "backslash"),
    (".hidden.json", "start with '.'"),
    ("forms/.git/config.json", "start with '.'"),
    ("run.sh", "only .bpmn"),
    ("process.bpmn.exe", "only .bpmn"),
    ("a\x00b.json", "control characters"),
    ("x" * 301 + ".json", "1-300 characters"),
])
def test_paths_outside_the_bundle_or_of_other_types_are_refused(path, why):
    with pytest.raises(InvalidInput, match="only|inside|relative|backslash|start|control|characters") as caught:
        check_path(path)
    assert why in caught.value.message and caught.value.details["file"] == path


@pytest.mark.parametrize(("url_path", "named"), [
    ("..%2Foutside.bpmn", "../outside.bpmn"),
    ("forms/%2E%2E/%2E%2E/x.json", "forms/../../x.json"),
    ("forms%5C..%5Cx.json", "forms\\..\\x.json"),
    ("notes.exe", "notes.exe"),
])
def test_the_api_refuses_a_bad_path_naming_it_and_stores_nothing(api, database, url_path, named):
    draft = api.new_draft()
    response = api.put(f"/owner/api/drafts/{draft['id']}/files/{url_path}", b"{}")
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "invalid_input" and body["file"] == named and named in body["message"]
    assert file_count(database, draft["id"]) == 0


def test_a_file_over_the_size_limit_or_not_text_is_refused_and_nothing_changes(api, database):
    draft = api.new_draft()
    url = f"/owner/api/drafts/{draft['id']}/files/big.json"
    too_big = api.put(url, b" " * (2 * 1024 * 1024 + 1))
    assert too_big.status_code == 400 and "big.json" in too_big.get_json()["message"]
    assert "2 MiB" in too_big.get_json()["message"]
    binary = api.put(url, b"\xff\xfe\x00garbage")
    assert binary.status_code == 400 and "not UTF-8" in binary.get_json()["message"]
    assert file_count(database, draft["id"]) == 0


def test_a_draft_needs_a_name_and_a_known_version(api):
    nameless = api.post("/owner/api/drafts", {"name": "  "})
    assert nameless.status_code == 400 and nameless.get_json()["field"] == "name"
    unknown = api.post("/owner/api/drafts", {"name": "x", "from_deployment_id": 999})
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "from_deployment_id"
    bad_bundle = api.post("/owner/api/drafts", {"name": "x", "bundle": "../etc"})
    assert bad_bundle.status_code == 400 and bad_bundle.get_json()["field"] == "bundle"
    not_json = api.client.post("/owner/api/drafts", data="name=x", headers=api.headers())
    assert not_json.status_code == 400 and not_json.get_json()["field"] == "body"
    assert api.get("/owner/api/drafts/999").status_code == 404


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", "technician"])
def test_other_roles_are_refused_with_403(signed_in, role):
    other = Api(signed_in(role))
    assert other.get("/owner/api/drafts").status_code == 403
    response = other.post("/owner/api/drafts", {"name": "mine"})
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert other.client.get("/owner/workbench").status_code == 403


def test_signed_out_callers_get_401_json(app):
    response = app.test_client().get("/owner/api/drafts", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_changes_without_the_csrf_token_are_refused_and_change_nothing(api, database):
    draft = api.new_draft()
    url = f"/owner/api/drafts/{draft['id']}/files/a.json"
    assert api.put(url, b"{}").status_code == 200
    for response in (api.put(url, b'{"x": 1}', csrf=False), api.delete(url, csrf=False),
                     api.post("/owner/api/drafts", {"name": "sneaky"}, csrf=False),
                     api.post(f"/owner/api/drafts/{draft['id']}/deploy", {"note": "x"}, csrf=False)):
        assert response.status_code == 400 and response.get_json()["error"] == "csrf_failed"
    assert api.get(url).data == b"{}"
    assert len(api.get("/owner/api/drafts").get_json()) == 1
