"""Helpers of the run-control tests (what-if, migrate, pilots): variants of the ``simple`` fixture bundle."""

from __future__ import annotations

from engine.bundle import Bundle, read_bundle
from tests.conftest import FIXTURES


def simple_variant(replace: dict[str, str] | None = None) -> Bundle:
    """Return the ``simple`` bundle with text of its BPMN replaced (each change makes a new version)."""
    files = dict(read_bundle([FIXTURES / "simple"]).files)
    text = files["simple.bpmn"].decode()
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    files["simple.bpmn"] = text.encode()
    return Bundle("simple", files)


def renamed_review(label: str) -> Bundle:
    """Return the ``simple`` bundle with its review task called ``label``."""
    return simple_variant({'name="Review"': f'name="{label}"'})
