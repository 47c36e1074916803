"""aftersales validate checks the bundle's message templates: every declared language, known placeholders."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from engine.bundle import Bundle, read_bundle
from engine.lint import lint_bundle
from engine.message_templates import INDEX, template_path

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def shipped() -> Bundle:
    return read_bundle([PROCESSES], name="after-sales")


def with_files(bundle: Bundle, files: dict[str, bytes | None]) -> Bundle:
    out = dict(bundle.files)
    for path, content in files.items():
        if content is None:
            out.pop(path)
        else:
            out[path] = content
    return Bundle(bundle.name, out)


def findings(bundle: Bundle) -> list[tuple[str, str | None, str, str]]:
    return [(p.file, p.element_id, p.severity, p.message) for p in lint_bundle(bundle).problems
            if p.rule == "message-templates"]


def test_the_shipped_templates_have_every_language_and_only_known_placeholders() -> None:
    bundle = shipped()
    assert template_path("appointment_confirmed", "zh") in bundle.files
    assert findings(bundle) == []


def test_an_unknown_placeholder_is_an_error_naming_template_file_and_placeholder() -> None:
    path = template_path("parts_delayed", "zh")
    bundle = with_files(shipped(), {path: "{{ customer_name }}，备件将于 {{ arrival_day }} 到货。".encode()})
    [(file, element, severity, message)] = findings(bundle)
    assert (file, element, severity) == (path, "parts_delayed", "error")
    assert "unknown placeholder 'arrival_day'" in message and "parts_eta" in message  # the known ones are listed


def test_a_template_missing_a_declared_language_is_an_error_naming_the_file_to_add() -> None:
    bundle = with_files(shipped(), {template_path("ready_for_pickup", "zh"): None})
    [(file, element, severity, message)] = findings(bundle)
    assert (file, element, severity) == (INDEX, "ready_for_pickup", "error")
    assert "has no zh text" in message and "templates/message/ready_for_pickup.zh.j2" in message


def test_a_template_jinja_cannot_read_is_an_error_with_its_line() -> None:
    path = template_path("need_information", "en")
    bundle = with_files(shipped(), {path: b"Subject: x\nDear {{ customer_name }\n"})
    [(file, element, severity, message)] = findings(bundle)
    assert (file, element, severity) == (path, "need_information", "error")
    assert "line 2" in message


def test_a_template_file_not_in_the_index_and_an_untranslated_title_are_reported() -> None:
    index = json.loads(shipped().files[INDEX])
    index["quote_reminder"] = {"title": "Quote reminder"}
    stray = template_path("welcome", "en")
    bundle = with_files(shipped(), {INDEX: json.dumps(index).encode(), stray: b"Hello {{ customer_name }}",
                                    template_path("quote_reminder", "en"): b"{{ ticket_number }}",
                                    template_path("quote_reminder", "zh"): b"{{ ticket_number }}"})
    found = findings(bundle)
    assert (stray, None, "error") == found[-1][:3] and "not a message template" in found[-1][3]
    assert (INDEX, "quote_reminder", "warning") in [f[:3] for f in found]


def test_validate_on_the_command_line_fails_and_names_the_placeholder(tmp_path: Path) -> None:
    bundle = tmp_path / "processes"
    for path, content in shipped().files.items():
        (bundle / path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / path).write_bytes(content)
    (bundle / template_path("closing_follow_up", "en")).write_text("Dear {{ customer }}", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bundle)])
    assert result.exit_code != 0
    assert "closing_follow_up" in result.output and "unknown placeholder 'customer'" in result.output
