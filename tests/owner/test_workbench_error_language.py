"""The workbench says a refused form schema in the owner's language, the finding inside the error too."""

from __future__ import annotations

import pytest

from tests.owner.drafts_support import Api


@pytest.fixture
def api(signed_in):
    """The workbench API as a process owner reading Chinese."""
    owner = signed_in("process_owner")
    owner.get("/lang/zh?next=/owner")
    return Api(owner)


@pytest.mark.parametrize(("schema", "said"), [
    ("a form", "结构：表单 schema 必须是一个 JSON 对象"),
    ({"type": "array"}, "结构：表单 schema 必须描述一个对象"),
])
def test_a_refused_schema_reads_in_the_owners_language(api, schema, said):
    # When a Chinese-reading owner previews a form whose schema is not usable
    refused = api.client.post("/owner/api/forms/preview", json={"schema": schema},
                              headers={**api.headers(), "Accept-Language": "zh-CN,zh;q=0.9"})
    body = refused.get_json()
    # Then the error names the field, keeps its English message, and says both parts in Chinese
    assert refused.status_code == 400 and body["field"] == "schema"
    assert body["message"].startswith("schema: a form schema must")
    assert body["localized_message"].startswith(said)
    assert "form schema" not in body["localized_message"]


def test_a_broken_json_schema_names_where_in_the_owners_language(api):
    refused = api.client.post("/owner/api/forms/try", json={"schema": {"type": "objekt"}, "data": {}},
                              headers={**api.headers(), "Accept-Language": "zh-CN"})
    assert refused.get_json()["localized_message"].startswith("结构：JSON Schema 在 /type 处无效：")
