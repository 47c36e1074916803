"""What the workbench's BPMN editor writes is the dialect the engine reads.

The editor (bpmn-js) keeps a process as bpmn-moddle objects described by
web/frontend/src/spiffworkflow-moddle.json. Every bundled process goes through bpmn-moddle
with that descriptor (import, then export — what saving in the editor does) and must come
back with every ``spiffworkflow:`` extension intact and still validate in the engine; so must
a file that went through bpmn-moddle without the descriptor (bpmn.io, Camunda Modeler).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from engine.bundle import read_bundle
from engine.lint import lint_bundle
from engine.lint_xml import SPIFF_NS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "web" / "frontend" / "roundtrip.mjs"
PROCESSES = ROOT / "processes"

pytestmark = pytest.mark.skipif(not (ROOT / "node_modules" / "bpmn-moddle").is_dir(),
                                reason="npm packages not installed (scripts/install)")


def _roundtrip(out: Path, files: list[Path], *flags: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed for the editor's round trip"
    return subprocess.run([node, str(SCRIPT), *flags, str(out), *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def _extensions(xml: bytes) -> list[tuple[str, str, tuple[tuple[str, str], ...], str]]:
    """Every spiffworkflow element as (owner id, path of tags, attributes, text)."""
    root = etree.fromstring(xml, etree.XMLParser(remove_comments=True, remove_pis=True))
    found = []
    for ext in root.iter(f"{{{SPIFF_NS}}}*"):
        owner, tags, node = None, [], ext
        while node is not None and owner is None:
            tags.append(etree.QName(node).localname)
            if etree.QName(node).namespace != SPIFF_NS and node.get("id"):
                owner = node.get("id")
            node = node.getparent()
        text = "".join(ext.itertext()).strip() if len(ext) == 0 else ""
        found.append((owner or "", "/".join(reversed(tags)), tuple(sorted(ext.attrib.items())), text))
    # spiffworkflow attributes on BPMN elements (scriptsOnInstances)
    for el in root.iter():
        for key, value in el.attrib.items():
            if key.startswith(f"{{{SPIFF_NS}}}"):
                found.append((el.get("id") or "", key, (), value))
    return sorted(found)


def test_every_bundled_process_keeps_its_spiffworkflow_extensions_through_bpmn_moddle(tmp_path: Path) -> None:
    sources = sorted(PROCESSES.glob("*.bpmn"))
    assert sources
    done = _roundtrip(tmp_path, sources)
    assert done.returncode == 0, done.stderr
    for source in sources:
        before = _extensions(source.read_bytes())
        after = _extensions((tmp_path / source.name).read_bytes())
        assert before, f"{source.name} has no spiffworkflow extensions to test with"
        assert after == before, source.name


def test_a_modeler_without_the_dialect_keeps_the_extensions_too(tmp_path: Path) -> None:
    """bpmn.io and Camunda Modeler know nothing of spiffworkflow: they must carry it through untouched."""
    bundle_dir = tmp_path / "bundle"
    shutil.copytree(PROCESSES, bundle_dir)
    done = _roundtrip(bundle_dir, sorted(bundle_dir.glob("*.bpmn")), "--plain")
    assert done.returncode == 0, done.stderr
    for source in sorted(PROCESSES.glob("*.bpmn")):
        assert _extensions((bundle_dir / source.name).read_bytes()) == _extensions(source.read_bytes()), source.name
    assert not lint_bundle(read_bundle([bundle_dir], name="aftersales")).errors


def test_the_engine_validates_the_bundle_bpmn_moddle_wrote(tmp_path: Path) -> None:
    bundle_dir = tmp_path / "bundle"
    shutil.copytree(PROCESSES, bundle_dir)
    sources = sorted(bundle_dir.glob("*.bpmn"))
    done = _roundtrip(bundle_dir, sources)
    assert done.returncode == 0, done.stderr
    written = read_bundle([bundle_dir], name="aftersales")
    original = read_bundle([PROCESSES], name="aftersales")
    result = lint_bundle(written)
    assert [p.to_dict() for p in result.errors] == [p.to_dict() for p in lint_bundle(original).errors]
    assert not result.errors, result.errors
    assert result.specs and sorted(result.specs) == sorted(lint_bundle(original).specs)


def test_an_unknown_spiffworkflow_element_is_reported_not_dropped_silently(tmp_path: Path) -> None:
    source = tmp_path / "src" / "typo.bpmn"
    source.parent.mkdir()
    xml = (PROCESSES / "quote_approval.bpmn").read_text(encoding="utf-8").replace(
        "<spiffworkflow:calledDecisionId>quote_approver</spiffworkflow:calledDecisionId>",
        "<spiffworkflow:calledDecisionID>quote_approver</spiffworkflow:calledDecisionID>")
    source.write_text(xml, encoding="utf-8")
    done = _roundtrip(tmp_path, [source])
    assert done.returncode == 1
    assert "calledDecisionID" in done.stderr
