"""Validation findings are templates with values, so the owner's pages say them in the reader's language.

Checked over the source (AST) of the modules that report findings: no call reporting a finding
(``add``, ``report``, ``refuse``, ``Problem`` …) gets text built with an f-string, ``%`` or ``.format``;
the message is ``finding("English template with {name}", name=value)``, whose template is a plain
string with a Chinese entry in the catalogue. Text a library wrote (lxml, SpiffWorkflow) goes in as
a value behind a template of ours (``"schema validation: {detail}"``); an ``AftersalesError`` a check
catches is reported by its own ``template`` (tests/test_error_templates.py checks those).
"""

from __future__ import annotations

import ast
from pathlib import Path

import babel.messages.pofile as pofile

from engine.errors import Problem, finding
from engine.lint_dialects import _DIALECTS, _GENERIC, HINTS
from tests.test_error_templates import _built, _name

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "web" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
#: the modules whose findings are templates (the rest of the finding sites still say English only)
MODULES = ("engine/lint.py", "engine/deploy.py", "engine/lint_refused.py", "engine/lint_timers.py",
           "engine/lint_translations.py", "engine/message_templates.py", "engine/lint_dialects.py",
           "engine/lint_scripts.py", "engine/message_contracts.py", "engine/forms.py")
REPORTERS = frozenset({"add", "report", "refuse", "_report", "Problem"})


def _calls(path: str) -> list[ast.Call]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), path)
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def built_findings(paths: tuple[str, ...] = MODULES) -> list[str]:
    """Return ``file:line`` for every finding reported with text built in place of a template."""
    found = []
    for path in paths:
        for call in _calls(path):
            if _name(call.func) in REPORTERS:
                args = [*call.args, *(k.value for k in call.keywords)]
                found += [f"{path}:{call.lineno}" for arg in args if _built(arg)]
            if _name(call.func) == "finding" and not (call.args and (isinstance(call.args[0], ast.Constant) or (
                    _name(call.args[0]) == "template"))):  # an AftersalesError's template, checked as such
                found.append(f"{path}:{call.lineno}")
    return found


def templates(paths: tuple[str, ...] = MODULES) -> set[str]:
    """Return every finding template the modules use."""
    return {call.args[0].value for path in paths for call in _calls(path)
            if _name(call.func) == "finding" and call.args and isinstance(call.args[0], ast.Constant)}


def test_no_finding_is_reported_with_built_text():
    assert built_findings() == []


def test_every_finding_template_has_its_chinese():
    with CATALOGUE.open(encoding="utf-8") as po:
        catalogue = pofile.read_po(po)
    ours = set(HINTS.values()) | {_GENERIC, "bookkeeping of that engine", *(d for _, d in _DIALECTS)}
    missing = sorted(t for t in templates() | ours if not (catalogue.get(t) and catalogue.get(t).string))
    assert missing == []


def test_a_finding_built_with_an_f_string_or_format_is_caught(tmp_path, monkeypatch):
    source = ('def check(add, name):\n'
              '    add("x.bpmn", f"unknown element {name}")\n'
              '    add("x.bpmn", "unknown element {}".format(name))\n'
              '    add("x.bpmn", finding("unknown element " + name))\n'
              '    add("x.bpmn", finding("unknown element {name}", name=name))\n')
    (tmp_path / "bad.py").write_text(source)
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert built_findings(("bad.py",)) == ["bad.py:2", "bad.py:3", "bad.py:4"]


def test_a_problem_keeps_the_english_text_and_the_template_with_its_values():
    problem = Problem("x.bpmn", finding("call activity calls process '{process}', which is not in the bundle",
                                        process="repair"), "call_1")
    assert problem.message == "call activity calls process 'repair', which is not in the bundle"
    assert type(problem.message) is str and problem.params == {"process": "repair"}
    assert problem.template == "call activity calls process '{process}', which is not in the bundle"
    assert Problem("x.bpmn", "lxml said so").template == ""
