"""Every script and expression of a bundle, compiled at validate under the sandbox's rules.

What SpiffWorkflow would evaluate at run time — script tasks, pre/post scripts,
conditions, loop expressions, service parameters, message payloads and correlation
expressions, signal/error/escalation payloads, DMN expressions — goes through
:func:`engine.sandbox.check_script`, so an import, ``open(...)``, a ``__class__`` or a
syntax error is a validation error naming the element and the line of the file, not an
incident in a running instance. Timers are checked by :mod:`engine.lint_timers`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .errors import finding
from .lint_dialects import PYTHON_FORMATS, VENDORS, feel_unary_test, foreign_expression
from .lint_xml import BPMN_NS, SPIFF_NS, Report, executable, local, owner_id, text_line
from .sandbox import check_script

EXEC, EVAL = "exec", "eval"
_BPMN_EXPRESSIONS = {  # BPMN element holding an expression → what a process owner calls it
    "conditionExpression": "condition", "condition": "condition of the conditional event",
    "completionCondition": "completion condition", "loopCondition": "loop condition",
    "loopCardinality": "loop cardinality",
}
_SPIFF_EXPRESSIONS = {
    "messagePayload": "message payload", "payloadExpression": "payload expression",
    "expression": "correlation expression",
}


@dataclass(frozen=True)
class Code:
    """One piece of Python in a file: where it is, what it is, how it is run."""

    node: Any
    text: str
    mode: str
    label: str
    in_attribute: bool = False
    problem: str | None = None  # known already to be another dialect


def check_scripts(path: str, root: Any, add: Report) -> set[str]:
    """Compile every script and expression of one BPMN or DMN file; return the ids reported."""
    reported: set[str] = set()

    def report(message: str, element: str | None, line: int | None, rule: str) -> None:
        reported.add(element or "")
        add(path, message, element, line, rule)

    codes = _bpmn_codes(root) if etree.QName(root).namespace == BPMN_NS else _dmn_codes(root)
    for code in codes:
        element = owner_id(code.node)
        if code.problem:
            report(code.problem, element, code.node.sourceline, "dialects")
            continue
        if not code.text.strip():
            if code.mode == EXEC or code.label.startswith("condition"):
                report(finding("{label} is empty: write Python, or remove it", label=code.label), element,
                       code.node.sourceline,
                       "scripts")
            continue
        foreign = foreign_expression(code.text, code.label)
        if foreign:
            report(foreign, element, code.node.sourceline, "dialects")
            continue
        for offset, message in explain(code.text, code.mode, code.label, code.in_attribute):
            line = code.node.sourceline if code.in_attribute else text_line(code.node, offset)
            report(message, element, line, "scripts")
    return reported


def explain(text: str, mode: str, label: str, in_attribute: bool = False,
            timer: bool = False) -> list[tuple[int | None, str]]:
    """Return (line in ``text``, message) for each reason the sandbox refuses ``text``.

    A syntax error in an attribute reminds that a text value needs quotes there; a ``timer`` value is
    said not to be an expression the sandbox runs."""
    problems = check_script(text, mode)
    if not problems:
        return []
    if mode == EVAL and not check_script(text, EXEC):
        if _assigns(text):
            return [(1, finding("{label} '{text}' is a statement, not an expression (compare with ==)", label=label,
                                text=text.strip()))]
        return [(1, finding("{label} '{text}' is a statement, not an expression", label=label, text=text.strip()))]
    return [(problem.line, _refused(label, problem.message, in_attribute, timer)) for problem in problems]


def _refused(label: str, detail: str, in_attribute: bool, timer: bool) -> str:
    if timer:
        return finding("{label} is not a Python expression the sandbox runs: {detail}", label=label, detail=detail)
    if in_attribute and "SyntaxError" in detail:
        return finding("{label} refused by the sandbox: {detail}; a text value needs quotes inside the attribute "
                       "(value=\"'…'\")", label=label, detail=detail)
    if "unexpected indent" in detail or "unindent" in detail:
        return finding("{label} refused by the sandbox: {detail}; scripts start at the left margin of the XML "
                       "text", label=label, detail=detail)
    return finding("{label} refused by the sandbox: {detail}", label=label, detail=detail)


def _assigns(text: str) -> bool:
    try:
        return any(isinstance(n, ast.Assign) for n in ast.walk(ast.parse(text)))
    except SyntaxError:
        return False


def _bpmn_codes(root: Any) -> Iterator[Code]:
    for el in root.iter(f"{{{BPMN_NS}}}*", f"{{{SPIFF_NS}}}*"):
        if not executable(el):
            continue
        qname = etree.QName(el)
        name = qname.localname
        if qname.namespace == BPMN_NS:
            if name == "script" and local(el.getparent()) == "scriptTask":
                if el.getparent().get("scriptFormat", "python").strip().lower() in PYTHON_FORMATS:
                    yield Code(el, el.text or "", EXEC, "script")
            elif name in _BPMN_EXPRESSIONS:
                yield Code(el, el.text or "", EVAL, _BPMN_EXPRESSIONS[name])
            elif name in ("formalExpression", "messagePath") and local(el.getparent()) == \
                    "correlationPropertyRetrievalExpression":
                yield Code(el, el.text or "", EVAL, "correlation retrieval expression")
        elif name in ("preScript", "postScript"):
            yield Code(el, el.text or "", EXEC, name)
        elif name in _SPIFF_EXPRESSIONS and (name != "expression"
                                             or local(el.getparent()) == "processVariableCorrelation"):
            yield Code(el, el.text or "", EVAL, _SPIFF_EXPRESSIONS[name])
        elif name == "parameter" and el.get("value") is not None:
            yield Code(el, el.get("value"), EVAL, f"parameter {el.get('id')!r}", in_attribute=True)
    for task in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        if executable(task) and task.find(f"{{{BPMN_NS}}}script") is None and not _foreign_script(task):
            yield Code(task, "", EXEC, "script task's script")


def _foreign_script(task: Any) -> bool:
    """A script in another language or dialect is reported by :mod:`engine.lint_dialects`."""
    return (task.get("scriptFormat", "python").strip().lower() not in PYTHON_FORMATS
            or any(etree.QName(a).namespace in VENDORS for a in task.attrib)
            or any(isinstance(e.tag, str) and etree.QName(e).namespace in VENDORS for e in task.iter()))


def _dmn_codes(root: Any) -> Iterator[Code]:
    for el in root.iter():
        if not isinstance(el.tag, str) or local(el) != "text" or not (el.text or "").strip():
            continue
        kind = local(el.getparent())
        if kind == "inputExpression":
            yield Code(el, el.text, EVAL, "input expression")
        elif kind == "outputEntry":
            yield Code(el, el.text, EVAL, "output entry")
        elif kind == "inputEntry" and el.text.strip() != "-":
            yield Code(el, _unary_test(el.text), EVAL, "input entry", problem=feel_unary_test(el.text))


def _unary_test(text: str) -> str:
    """Return the Python SpiffWorkflow's DMN engine evaluates for an input entry (``> 5`` → ``v > 5``)."""
    test = text.replace("?", "v")
    try:
        ast.parse(test, mode="eval")
    except SyntaxError:
        return f"v {test}"
    return test
