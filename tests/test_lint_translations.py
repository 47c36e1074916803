"""aftersales validate reports what a bundle's translations leave out, per declared language."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from engine.bundle import Bundle, read_bundle
from engine.lint import lint_bundle

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def _translation_findings(bundle: Bundle) -> list:
    return [p for p in lint_bundle(bundle).problems if p.rule == "translations"]


def _shipped() -> Bundle:
    return read_bundle([PROCESSES], name="after-sales")


def _with_zh(bundle: Bundle, change) -> Bundle:  # type: ignore[no-untyped-def]
    table = json.loads(bundle.files["translations.zh.json"])
    change(table)
    return Bundle(bundle.name, {**bundle.files, "translations.zh.json": json.dumps(table).encode()})


def test_the_shipped_bundle_leaves_no_text_untranslated_in_chinese() -> None:
    bundle = _shipped()
    assert "translations.zh.json" in bundle.files
    assert _translation_findings(bundle) == []


def test_validate_names_file_and_element_of_a_missing_task_name() -> None:
    bundle = _with_zh(_shipped(), lambda t: t.pop("Register the request"))
    found = _translation_findings(bundle)
    assert [(p.file, p.element_id, p.severity) for p in found] == [
        ("after_sales.bpmn", "register_request", "warning"),
        ("forms/register_request.schema.json", "register_request", "warning"),  # the form's title too
    ]
    assert all("no zh translation" in p.message and "'Register the request'" in p.message for p in found)
    assert "form title" in found[1].message


def test_validate_names_form_field_of_missing_label_help_and_option() -> None:
    def drop(table: dict) -> None:
        for key in ("Serial number", "Tick every symptom the customer reports.", "Bad smell"):
            table.pop(key)

    found = _translation_findings(_with_zh(_shipped(), drop))
    where = {(p.file, p.element_id) for p in found}
    assert ("forms/register_request.schema.json", "product.serial_number") in where
    assert any(p.element_id == "fault.symptoms" and "ui:help" in p.message for p in found)
    assert any("'Bad smell'" in p.message and "option" in p.message for p in found)
    assert all(p.severity == "warning" for p in found)


def test_validate_names_missing_instructions_by_element() -> None:
    found = _translation_findings(_with_zh(_shipped(), lambda t: t.pop("instructions:inspect_repair")))
    assert [(p.file, p.element_id) for p in found] == [("repair_and_qc.bpmn", "inspect_repair")]
    assert "instructions" in found[0].message


def test_a_translation_that_is_not_text_is_an_error_naming_its_key() -> None:
    found = _translation_findings(_with_zh(_shipped(), lambda t: t.update({"Repair": 3})))
    assert [(p.file, p.severity) for p in found] == [("translations.zh.json", "error")]
    assert "'Repair'" in found[0].message


def test_a_bundle_that_declares_no_language_is_not_asked_for_translations() -> None:
    bundle = _shipped()
    files = {p: c for p, c in bundle.files.items() if not p.startswith("translations.")}
    assert _translation_findings(Bundle(bundle.name, files)) == []


def test_each_declared_language_is_checked(tmp_path: Path) -> None:
    bundle = _shipped()
    files = {**bundle.files, "translations.ja.json": json.dumps({"Repair": "修理"}).encode()}
    found = _translation_findings(Bundle(bundle.name, files))
    assert found and all("no ja translation" in p.message for p in found)
    assert not any("'Repair'" in p.message for p in found)


def test_validate_command_prints_the_missing_translation(tmp_path: Path) -> None:
    for path, content in _with_zh(_shipped(), lambda t: t.pop("Repair the device")).files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert "repair_and_qc.bpmn" in result.output and "'Repair the device'" in result.output
