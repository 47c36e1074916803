"""API keys: stored hashed, shown once, scoped; the admin page and the command group."""

from __future__ import annotations

import hashlib

from click.testing import CliRunner
from sqlalchemy import select

from cli.apikeys import apikeys
from engine.apikeys import ApiKey
from engine.models import AuditEvent


def test_a_key_is_stored_only_as_its_hash_and_its_creation_is_audited(services, api_key):
    header = api_key("tasks:read")
    token = header["Authorization"].split()[1]
    with services.db.transaction(write=False) as s:
        key = s.scalars(select(ApiKey)).one()
        assert key.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(key.__dict__)
        assert len(bytes.fromhex(token.removeprefix("as_").replace("_", ""))) == 32
        assert [e.kind for e in s.scalars(select(AuditEvent).where(AuditEvent.stream == "apikeys"))] == [
            "apikey.created"]


def test_admins_create_keys_on_their_page_and_others_may_not(signed_in):
    admin = signed_in("admin")
    admin.get("/admin/api-keys/")
    created = admin.post("/admin/api-keys/", {"name": "website", "scopes": ["service-requests:write"]})
    html = created.get_data(as_text=True)
    assert created.status_code == 201 and 'id="new-key">as_' in html
    assert admin.post("/admin/api-keys/", {"name": "chat", "scopes": ["root"]}).status_code == 400
    assert "revoked" in admin.post("/admin/api-keys/website/revoke").get_data(as_text=True)
    assert signed_in("auditor").get("/admin/api-keys/").status_code == 403


def test_the_command_group_creates_lists_and_revokes(services, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", services.db.url)
    runner = CliRunner()
    made = runner.invoke(apikeys, ["create", "email-gateway", "--scope", "messages:write"])
    assert made.exit_code == 0 and made.output.startswith("as_")
    assert '"name": "email-gateway"' in runner.invoke(apikeys, ["list"]).output
    assert runner.invoke(apikeys, ["revoke", "email-gateway"]).exit_code == 0
    assert runner.invoke(apikeys, ["revoke", "nobody"]).exit_code == 4
