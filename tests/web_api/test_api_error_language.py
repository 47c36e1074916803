"""An API error keeps its machine code and English message; a client that sends Accept-Language also gets it
in that language."""

from __future__ import annotations


def test_an_api_error_is_also_said_in_chinese_when_the_client_asks(app, api_key):
    client = app.test_client()
    reader = api_key("instances:read")
    refused = client.get("/api/v1/instances/999999", headers={**reader, "Accept-Language": "zh-CN,zh;q=0.9"})
    body = refused.get_json()
    assert refused.status_code == 404
    assert (body["code"], body["message"]) == ("not_found", "instance 999999 does not exist")
    assert (body["language"], body["localized_message"]) == ("zh", "实例 999999 不存在")


def test_an_api_error_without_accept_language_is_english_only(app, api_key):
    client = app.test_client()
    body = client.get("/api/v1/instances/999999", headers=api_key("instances:read")).get_json()
    assert body["message"] == "instance 999999 does not exist"
    assert "localized_message" not in body


def test_a_bad_query_value_names_its_field_in_the_clients_language(app, api_key):
    client = app.test_client()
    refused = client.get("/api/v1/undelivered-messages?limit=0",
                         headers={**api_key("instances:read"), "Accept-Language": "zh"})
    body = refused.get_json()
    assert refused.status_code == 400 and body["field"] == "limit"
    assert body["message"] == "limit must be a whole number from 1 to 200"
    assert body["localized_message"] == "limit 须为 1 到 200 之间的整数"
