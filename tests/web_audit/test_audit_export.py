"""Exported trails re-verify with the documented standalone verifier; tampering is caught."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.audit_export import trail_from_csv, verify_export

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-verification.md"


@pytest.fixture
def verifier(tmp_path: Path) -> Path:
    """The verifier of docs/audit-verification.md, saved as a script."""
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(code.strip().splitlines()) <= 22
    assert set(re.findall(r"^import (.*)$", code, re.M)) == {"hashlib, json, sys"}
    path = tmp_path / "verify_trail.py"
    path.write_text(code, encoding="utf-8")
    return path


def _run(verifier: Path, doc: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    target = tmp_path / "trail.json"
    target.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, str(verifier), str(target)], capture_output=True, text=True, timeout=60)


def test_the_documented_verifier_accepts_an_export_and_rejects_a_tampered_one(
        signed_in, order_instance, verifier, tmp_path):
    supervisor = signed_in("supervisor")
    supervisor.get(f"/audit/instances/{order_instance}")
    supervisor.post(f"/audit/instances/{order_instance}/unmask", {"reason": "third-party audit"})
    doc = supervisor.get(f"/audit/instances/{order_instance}/trail.json").get_json()
    assert doc["masked"] is False and len(doc["events"]) == doc["head"]["seq"] > 10
    ok = _run(verifier, doc, tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr

    # Given a copy in which one form value was changed
    tampered = json.loads(json.dumps(doc))
    completed = next(e for e in tampered["events"] if e["kind"] == "task.completed" and e["actor"] == "sally")
    completed["data"]["form"]["quantity"] = 20
    bad = _run(verifier, tampered, tmp_path)
    assert bad.returncode == 1 and f"event {completed['seq']}: content does not match its hash" in bad.stdout

    # and one whose newest event was dropped
    truncated = {**doc, "events": doc["events"][:-1]}
    assert "does not end at its recorded head" in _run(verifier, truncated, tmp_path).stdout


def test_the_csv_export_carries_the_same_verifiable_chain(signed_in, order_instance):
    text = signed_in("auditor").get(f"/audit/instances/{order_instance}/trail.csv").get_data(as_text=True)
    assert text.startswith("\ufeff# aftersales-audit-trail/1 stream=instance:")  # BOM: Excel reads UTF-8
    doc = trail_from_csv(text)
    assert verify_export(doc) == []
    plain = next(e for e in doc["events"] if not e.get("masked"))
    plain["actor"] = "someone else"
    assert verify_export(doc) == [f"event {plain['seq']}: content does not match its hash"]


def test_a_masked_export_hides_personal_data_and_still_checks_every_link(signed_in, order_instance):
    doc = signed_in("auditor").get(f"/audit/instances/{order_instance}/trail.json").get_json()
    assert doc["masked"] is True and "Ada Lovelace" not in json.dumps(doc)
    assert verify_export(doc) == []
    masked = next(e for e in doc["events"] if e.get("masked"))
    masked["prev_hash"] = "f" * 64
    assert verify_export(doc) == [f"event {masked['seq']}: prev_hash does not match the previous event"]


def test_exporting_with_personal_data_shown_is_audited(signed_in, order_instance, services):
    from sqlalchemy import select

    from engine.models import AuditEvent

    supervisor = signed_in("supervisor")
    supervisor.get(f"/audit/instances/{order_instance}")
    supervisor.post(f"/audit/instances/{order_instance}/unmask", {"reason": "court order"})
    supervisor.get(f"/audit/instances/{order_instance}/trail.csv")
    with services.db.transaction(write=False) as s:
        whats = [e.data["what"] for e in s.scalars(select(AuditEvent).where(AuditEvent.stream == "privacy"))]
    assert whats == [f"instance {order_instance} for 15 minutes", f"export of instance {order_instance} trail (csv)"]
    assert signed_in("auditor").get(f"/audit/instances/{order_instance}/trail.xml").status_code == 400
