"""The process owner's views: definitions and files, deploy from the browser, heatmap, incidents."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import Deployment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _files(folder: str) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(p.read_bytes()), p.name) for p in sorted((FIXTURES / folder).iterdir())]


def _deployments(services) -> int:
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Deployment)) or 0


def test_definitions_list_every_version_with_hash_deployer_and_instance_counts(signed_in, order_instance):
    html = signed_in("process_owner").get("/owner/definitions").get_data(as_text=True)
    assert 'data-process="order_fulfilment"' in html and 'data-process="shipping_method"' in html
    text = re.sub(r"<[^>]+>", "", html)  # the bundle's name and the deployer are marked as data
    assert "order v1" in text and ">owner<" in html
    assert 'href="/audit/instances?process=order_fulfilment&amp;version=1">1</a>' in html


def test_each_deployed_file_downloads_byte_for_byte(signed_in, order_instance):
    owner = signed_in("process_owner")
    response = owner.get("/owner/deployments/1/files/order_fulfilment.bpmn?download=1")
    assert response.data == (FIXTURES / "order" / "order_fulfilment.bpmn").read_bytes()
    assert "attachment" in response.headers["Content-Disposition"]
    assert owner.get("/owner/deployments/1/files/nope.bpmn").status_code == 404
    assert "pick_and_pack.bpmn" in owner.get("/owner/deployments/1").get_data(as_text=True)


def test_deploying_a_broken_bundle_lists_every_problem_and_deploys_nothing(signed_in, services):
    owner = signed_in("process_owner")
    owner.get("/owner/deploy")
    broken = (FIXTURES / "simple" / "simple.bpmn").read_text().replace('targetRef="echo_task"', 'targetRef="nowhere"')
    response = owner.post("/owner/deploy", {"name": "simple", "action": "deploy",
                                            "files": [(io.BytesIO(broken.encode()), "simple.bpmn")]},
                          content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Nothing was deployed" in html
    assert 'data-file="simple.bpmn"' in html and 'data-element="f2"' in html and "nowhere" in html
    assert _deployments(services) == 0
    as_json = owner.post("/owner/deploy", {"name": "simple", "files": [(io.BytesIO(broken.encode()), "simple.bpmn")]},
                         content_type="multipart/form-data", headers={"Accept": "application/json"}).get_json()
    problem = next(p for p in as_json["problems"] if p["element_id"] == "f2")
    assert problem["file"] == "simple.bpmn" and problem["line"]


def test_validate_only_then_deploy_files_and_the_same_zip_again_is_the_same_version(signed_in, services):
    import tests.handlers_for_tests  # noqa: F401

    owner = signed_in("process_owner")
    owner.get("/owner/deploy")
    checked = owner.post("/owner/deploy", {"name": "order", "action": "validate", "files": _files("order")},
                         content_type="multipart/form-data")
    assert checked.status_code == 200 and "Every check passed" in checked.get_data(as_text=True)
    assert _deployments(services) == 0
    done = owner.post("/owner/deploy", {"name": "order", "action": "deploy", "files": _files("order")},
                      content_type="multipart/form-data")
    assert "Deployed order v1." in done.get_data(as_text=True)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        for path in (FIXTURES / "order").iterdir():
            zf.writestr(f"order/{path.name}", path.read_bytes())
        zf.writestr("__MACOSX/._junk", b"x")
    packed.seek(0)
    again = owner.post("/owner/deploy", {"name": "order", "files": [(packed, "order.zip")]},
                       content_type="multipart/form-data")
    assert "this content is order v1 already" in again.get_data(as_text=True)
    assert _deployments(services) == 1


@pytest.mark.parametrize(("files", "message"), [
    ([], "choose BPMN"),
    ([(b"not a zip", "bundle.zip")], "is not a zip archive"),
])
def test_an_upload_without_files_or_with_a_bad_zip_is_refused(signed_in, files, message):
    owner = signed_in("process_owner")
    owner.get("/owner/deploy")
    uploads = [(io.BytesIO(content), name) for content, name in files]
    response = owner.post("/owner/deploy", {"name": "x", "files": uploads}, content_type="multipart/form-data")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_heatmap_counts_executions_with_average_and_p90_times(signed_in, order_instance):
    owner = signed_in("process_owner")
    data = owner.get("/owner/heatmap/1/order_fulfilment.json").get_json()
    enter = next(e for e in data["elements"] if e["element_id"] == "Activity_0enter")
    assert (enter["executions"], enter["waiting_avg"], enter["waiting_p90"], enter["working_p90"]) == (
        1, 1800.0, 1800.0, 300.0)
    pick = next(e for e in data["elements"] if e["element_id"] == "Activity_0pick")
    assert pick["working_p90"] == 7200.0  # the call activity's whole duration is work inside it
    page = owner.get("/owner/heatmap/1/order_fulfilment").get_data(as_text=True)
    assert 'data-element="Activity_0enter"' in page and "30 min" in page
    assert owner.get("/owner/heatmap/1/no_such_process").status_code == 404


def test_retrying_many_incidents_reports_what_each_retry_really_did(signed_in, incident_instances, services):
    import tests.handlers_for_tests as th
    from engine.models import Incident

    owner = signed_in("process_owner")
    html = owner.get("/owner/incidents").get_data(as_text=True)
    with services.db.transaction(write=False) as s:
        first, second = (i.id for i in s.scalars(select(Incident).order_by(Incident.id)))
    assert f'data-incident="{first}"' in html and "ConnectionError" in html
    th.FAILURES["k1"] = 0  # the first upstream is back, the second is still down
    result = owner.post("/owner/incidents/retry", {"incident": [str(first), str(second), "99999"]})
    html = result.get_data(as_text=True)
    assert f'class="outcome-resolved" data-incident="{first}"' in html
    assert f'class="outcome-failed_again" data-incident="{second}"' in html
    assert 'class="outcome-refused" data-incident="99999"' in html and "does not exist" in html
    with services.db.transaction(write=False) as s:
        assert [i.status for i in s.scalars(select(Incident).order_by(Incident.id))] == ["resolved", "retrying"]
    assert owner.post("/owner/incidents/retry", {"incident": ["x"]}).status_code == 400


@pytest.mark.parametrize("role", ["agent", "auditor", "technician"])
def test_roles_other_than_process_owner_cannot_deploy_or_see_owner_pages(signed_in, order_instance, role):
    client = signed_in(role)
    for url in ("/owner/definitions", "/owner/deploy", "/owner/heatmap/1/order_fulfilment"):
        assert client.get(url).status_code == 403, url
