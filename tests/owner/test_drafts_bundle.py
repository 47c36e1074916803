"""A draft as a whole: validated as `aftersales validate` does, compared, zipped, uploaded, deployed with a note."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from sqlalchemy import func, select

from engine.deploy import validate as validate_bundle
from engine.drafts import DraftFile
from engine.models import AuditEvent, Deployment, Instance
from tests.owner.drafts_support import Api, deploy_repair, repair_bundle


@pytest.fixture
def api(signed_in):
    """The workbench API as the process owner."""
    return Api(signed_in("process_owner"))


@pytest.fixture
def draft(api, database):
    """A draft of version 1 of bundle ``repair``."""
    return api.new_draft("Faster repair", deploy_repair(database))


def file_url(draft, path):
    return f"/owner/api/drafts/{draft['id']}/files/{path}"


def edit(api, draft, path, old, new):
    """Replace ``old`` by ``new`` in one file of the draft (as the editor's autosave does)."""
    content = api.get(file_url(draft, path)).data
    assert old.encode() in content, f"{old!r} not in {path}"
    assert api.put(file_url(draft, path), content.replace(old.encode(), new.encode())).status_code == 200


def versions(database):
    with database.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Deployment).where(Deployment.name == "repair"))


def draft_files(database, draft_id):
    with database.transaction(write=False) as s:
        return {f.path: f.content for f in s.scalars(select(DraftFile).where(DraftFile.draft_id == draft_id))}


def zip_of(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return out.getvalue()


def test_validate_gives_what_aftersales_validate_gives_with_the_dmn_row_located(api, draft, database):
    # Given a draft whose decision table's second row outputs a refused expression
    edit(api, draft, "quote_approval.dmn", '<outputEntry id="quote_approver_r2_o0"><text>"supervisor"</text>',
         '<outputEntry id="quote_approver_r2_o0"><text>__import__("os")</text>')
    # When the owner validates it
    result = api.post(f"/owner/api/drafts/{draft['id']}/validate").get_json()
    # Then the problems are the server's validate + lint, one for one
    bundle = repair_bundle()
    bundle.files["quote_approval.dmn"] = draft_files(database, draft["id"])["quote_approval.dmn"]
    with database.transaction(write=False) as s:
        expected = [p.to_dict() for p in validate_bundle(bundle, s).problems]
    assert [{k: p[k] for k in expected[0]} for p in result["problems"]] == expected
    # And the refused cell is located: its file, element, decision and row
    assert result["ok"] is False
    [error] = [p for p in result["problems"] if p["severity"] == "error"]
    assert (error["file"], error["element_id"], error["decision"], error["row"]) == \
        ("quote_approval.dmn", "quote_approver_r2_o0", "quote_approver", 2)


def test_validate_locates_the_form_field_of_a_missing_translation(api, draft):
    result = api.post(f"/owner/api/drafts/{draft['id']}/validate").get_json()
    assert result["ok"] is True
    labour = [p for p in result["problems"] if p["file"] == "repair.schema.json" and "Labour hours" in p["message"]]
    assert labour and labour[0]["field"] == "labour_hours" and labour[0]["severity"] == "warning"


def test_compare_names_the_changed_dmn_row_form_field_and_translation(api, draft, database):
    # Given a draft that raises the agent's limit, renames a form field and retranslates a text, and adds a file
    edit(api, draft, "quote_approval.dmn", '<outputEntry id="quote_approver_r2_o0"><text>"supervisor"</text>',
         '<outputEntry id="quote_approver_r2_o0"><text>"manager"</text>')
    edit(api, draft, "repair.schema.json", '"title": "Labour hours"', '"title": "Hours worked"')
    edit(api, draft, "translations.zh.json", '"Repair record": "维修记录"', '"Repair record": "维修单"')
    api.put(file_url(draft, "notes.md"), b"# Why\n")
    # When it is compared with the version it started from
    result = api.get(f"/owner/api/drafts/{draft['id']}/compare?with={draft['base_deployment_id']}").get_json()
    # Then the files, the row, the field and the key are named with before and after
    status = {f["path"]: f["status"] for f in result["files"]}
    assert status["notes.md"] == "added" and status["customer.bpmn"] == "same"
    assert status["quote_approval.dmn"] == status["repair.schema.json"] == status["translations.zh.json"] == "changed"
    [row] = result["dmn_rows"]
    assert (row["decision"], row["row"], row["status"]) == ("quote_approver", 2, "changed")
    assert row["before"]["outputs"][0] == '"supervisor"' and row["after"]["outputs"][0] == '"manager"'
    [field] = result["form_fields"]
    assert (field["file"], field["field"], field["status"]) == ("repair.schema.json", "labour_hours", "changed")
    assert field["before"]["title"] == "Labour hours" and field["after"]["title"] == "Hours worked"
    [key] = result["translations"]
    assert (key["key"], key["before"], key["after"]) == ("Repair record", "维修记录", "维修单")


def test_compare_lists_removed_files_and_needs_a_version_for_a_new_bundle(api, draft):
    api.delete(file_url(draft, "approve.schema.json"))
    result = api.get(f"/owner/api/drafts/{draft['id']}/compare").get_json()
    assert {"path": "approve.schema.json", "status": "removed"} in result["files"]
    fresh = api.new_draft("Brand new", bundle="fresh")
    refused = api.get(f"/owner/api/drafts/{fresh['id']}/compare")
    assert refused.status_code == 400 and refused.get_json()["field"] == "with"
    assert api.get(f"/owner/api/drafts/{draft['id']}/compare?with=abc").get_json()["field"] == "with"
    assert api.get(f"/owner/api/drafts/{draft['id']}/compare?with=999").status_code == 404


def test_a_downloaded_zip_uploaded_into_a_new_draft_gives_the_same_bytes(api, draft, database):
    # Given a draft with a file in a folder
    api.put(file_url(draft, "forms/extra.schema.json"), '{"type": "object", "title": "Extra é"}'.encode())
    # When its zip is downloaded and uploaded into a new, empty draft
    download = api.get(f"/owner/api/drafts/{draft['id']}/download")
    assert download.mimetype == "application/zip" and "attachment" in download.headers["Content-Disposition"]
    fresh = api.new_draft("Copy", bundle="repair")
    uploaded = api.upload(f"/owner/api/drafts/{fresh['id']}/upload", [(download.data, "repair.zip")])
    assert uploaded.status_code == 200, uploaded.get_json()
    # Then both drafts hold the same files, byte for byte
    assert draft_files(database, fresh["id"]) == draft_files(database, draft["id"])
    assert len(draft_files(database, fresh["id"])) == len(repair_bundle().files) + 1


def test_a_deployed_version_downloads_as_the_zip_of_its_files(api, draft):
    response = api.get(f"/owner/deployments/{draft['base_deployment_id']}/download")
    assert response.status_code == 200 and "repair-v1.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == repair_bundle().files


@pytest.mark.parametrize(("archive", "named"), [
    ({"../evil.bpmn": b"<x/>"}, "../evil.bpmn"),
    ({"forms/../../evil.json": b"{}"}, "forms/../../evil.json"),
    ({"/etc/cron.d/evil.json": b"{}"}, "/etc/cron.d/evil.json"),
    ({"ok.json": b"{}", "run.sh": b"rm -rf /"}, "run.sh"),
])
def test_an_upload_with_a_path_outside_the_bundle_or_a_foreign_file_changes_nothing(api, draft, database,
                                                                                     archive, named):
    before = draft_files(database, draft["id"])
    response = api.upload(f"/owner/api/drafts/{draft['id']}/upload", [(zip_of(archive), "bundle.zip")])
    assert response.status_code == 400
    body = response.get_json()
    assert named in body["message"] and body["file"] == f"bundle.zip:{named}"
    assert draft_files(database, draft["id"]) == before


def test_garbage_that_is_not_a_zip_is_refused(api, draft, database):
    before = draft_files(database, draft["id"])
    response = api.upload(f"/owner/api/drafts/{draft['id']}/upload", [(b"PK\x03\x04 not really", "x.zip")])
    assert response.status_code == 400 and response.get_json()["message"] == "x.zip is not a zip archive"
    assert api.upload(f"/owner/api/drafts/{draft['id']}/upload", []).status_code == 400
    assert draft_files(database, draft["id"]) == before


def test_a_50_mb_upload_gets_413_with_the_limit_and_changes_nothing(api, draft, database):
    before = draft_files(database, draft["id"])
    response = api.upload(f"/owner/api/drafts/{draft['id']}/upload", [(b"\0" * (50 * 1024 * 1024), "big.zip")])
    assert response.status_code == 413
    body = response.get_json()
    assert body["error"] == "too_large" and body["message"] == "The upload is larger than 5 MiB; nothing was changed."
    assert draft_files(database, draft["id"]) == before


def test_single_files_upload_into_the_draft_beside_its_others(api, draft, database):
    response = api.upload(f"/owner/api/drafts/{draft['id']}/upload",
                          [(b'{"type": "object"}', "new.schema.json"), (b"# Notes\n", "README.md")])
    assert response.status_code == 200
    files = draft_files(database, draft["id"])
    assert files["new.schema.json"] == b'{"type": "object"}' and "customer.bpmn" in files


def test_deploying_an_invalid_draft_is_refused_naming_the_element(api, draft, database):
    # Given a draft whose repair task names a form the bundle lacks
    edit(api, draft, "customer.bpmn", 'value="repair.schema.json"', 'value="gone.schema.json"')
    # When the owner deploys it
    response = api.post(f"/owner/api/drafts/{draft['id']}/deploy", {"note": "try"})
    # Then it is refused with 422 and the problems, the element named, and nothing is deployed
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "deployment_invalid"
    assert any(p["element_id"] == "repair" and "gone.schema.json" in p["message"] for p in body["problems"])
    assert versions(database) == 1


def test_a_refused_deploy_locates_the_decision_row(api, draft, database):
    edit(api, draft, "quote_approval.dmn", '<outputEntry id="quote_approver_r2_o0"><text>"supervisor"</text>',
         '<outputEntry id="quote_approver_r2_o0"><text>__import__("os")</text>')
    response = api.post(f"/owner/api/drafts/{draft['id']}/deploy", {"note": "refused"})
    assert response.status_code == 422
    [error] = [p for p in response.get_json()["problems"] if p["severity"] == "error"]
    assert (error["element_id"], error["decision"], error["row"]) == ("quote_approver_r2_o0", "quote_approver", 2)
    assert versions(database) == 1
    assert api.get(f"/owner/api/drafts/{draft['id']}").get_json()["deployments"] == []


def test_deploying_keeps_the_note_and_the_same_content_is_the_same_version(api, draft, database):
    # Given a draft that changes one row
    edit(api, draft, "quote_approval.dmn", '<outputEntry id="quote_approver_r1_o0"><text>"supervisor"</text>',
         '<outputEntry id="quote_approver_r1_o0"><text>"manager"</text>')
    url = f"/owner/api/drafts/{draft['id']}/deploy"
    # A note is required
    assert api.post(url, {"note": " "}).get_json()["field"] == "note"
    # When it is deployed with a note
    first = api.post(url, {"note": "Goodwill goes to a manager"}).get_json()
    # Then it is version 2, and the note is kept with the draft, on the workbench and in the audit trail
    assert (first["name"], first["version"], first["created"]) == ("repair", 2, True)
    notes = api.get(f"/owner/api/drafts/{draft['id']}").get_json()["deployments"]
    assert notes[0]["note"] == "Goodwill goes to a manager" and notes[0]["version"] == 2
    assert "Goodwill goes to a manager" in api.client.get("/owner/workbench").get_data(as_text=True)
    with database.transaction(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.kind == "deployment.noted")).one()
    assert event.data["note"] == "Goodwill goes to a manager" and event.data["deployment_id"] == first["deployment_id"]
    # When the unchanged draft is deployed again, it is the same version
    again = api.post(url, {"note": "again"}).get_json()
    assert (again["version"], again["created"], again["deployment_id"]) == (2, False, first["deployment_id"])
    assert versions(database) == 2


def test_a_running_ticket_stays_on_its_version_while_a_draft_is_edited_and_deployed(api, draft, database,
                                                                                   services):
    # Given a repair ticket running on version 1
    with database.transaction() as s:
        instance_id = services.runtime.start(s, "web_repair", {"ticket_number": "AS-20260302-00077",
                                                               "priority": "high"},
                                             "AS-20260302-00077", "agent").instance_id
    # When the owner edits a draft of that version and deploys it as version 2
    edit(api, draft, "customer.bpmn", 'name="Repair the device"', 'name="Repair it"')
    deployed = api.post(f"/owner/api/drafts/{draft['id']}/deploy", {"note": "shorter name"}).get_json()
    assert deployed["version"] == 2
    # Then the ticket is still on version 1
    with database.transaction(write=False) as s:
        assert s.get(Instance, instance_id).deployment_id == draft["base_deployment_id"]


def test_the_same_bundle_as_its_version_deploys_as_that_version(api, draft, database):
    result = api.post(f"/owner/api/drafts/{draft['id']}/deploy", {"note": "no change"}).get_json()
    assert (result["version"], result["created"], result["deployment_id"]) == (1, False, draft["base_deployment_id"])
    assert json.loads(json.dumps(result))["note"] == "no change"


def test_a_chinese_owner_reads_the_drafts_findings_in_chinese_beside_the_english_message(api, draft):
    # Given a draft whose form field has no Chinese title, validated by an owner reading Chinese
    api.client.get("/lang/zh")
    result = api.post(f"/owner/api/drafts/{draft['id']}/validate").get_json()
    [labour] = [p for p in result["problems"] if p["file"] == "repair.schema.json" and "Labour hours" in p["message"]]
    # Then the finding keeps its English message for clients and says it in Chinese for the page
    assert labour["localized_message"] != labour["message"]
    assert re.search(r"[\u4e00-\u9fff]", labour["localized_message"]) and "Labour hours" in labour["localized_message"]
