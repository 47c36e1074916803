"""Validate a bundle: XML, the spiff XSD, SpiffWorkflow's parser, then our own lint.

Every finding is a :class:`~engine.errors.Problem` naming file, element and line. The
checks run on everything and report everything, so a process owner fixes a bundle in
one round. Beyond SpiffWorkflow's own checks: other engines' dialects
(:mod:`engine.lint_dialects`), every script and expression under the sandbox's rules
(:mod:`engine.lint_scripts`), timer values (:mod:`engine.lint_timers`), missing translations
(:mod:`engine.lint_translations`), separation-of-duties properties (:mod:`engine.lint_duties`) and BPMN this
engine cannot run as the standard says (:mod:`engine.lint_refused`).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser import VALIDATOR

from . import forms, message_contracts
from .bundle import Bundle
from .errors import HandlerError, Problem, finding
from .lint_dialects import check_dialects
from .lint_duties import check_duties
from .lint_refused import check_refused
from .lint_scripts import check_scripts
from .lint_timers import check_timers
from .lint_translations import check_translations
from .lint_xml import BPMN_NS, SPIFF_NS, owner_id
from .message_templates import lint_message_templates
from .registry import get_handler
from .spiff import AftersalesParser, HandlerServiceTask

KNOWN_EXTENSIONS = {
    "properties", "property", "serviceTaskOperator", "parameters", "parameter", "resultVariable",
    "instructionsForEndUser", "preScript", "postScript", "calledDecisionId", "messageVariable",
    "messagePayload", "processVariableCorrelation", "propertyId", "expression", "variableName",
    "unitTests", "unitTest", "inputJson", "expectedOutputJson", "retry", "payloadExpression",
    "scriptsOnInstances", "signalPayload", "errorPayload", "escalationPayload", "allowGuest",
    "guestConfirmation", "signalButtonLabel", "isPrivate",
}


@dataclass
class LintResult:
    """What validation found, and what parsing produced when it succeeded."""

    problems: list[Problem] = field(default_factory=list)
    specs: dict[str, Any] = field(default_factory=dict)
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    processes: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    lanes: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Problem]:
        """Return only the problems that block a deployment."""
        return [p for p in self.problems if p.severity == "error"]

    def add(self, file: str, message: str, element_id: str | None = None, line: int | None = None,
            rule: str = "lint", severity: str = "error") -> None:
        """Record a problem."""
        self.problems.append(Problem(file, message, element_id, line or None, severity, rule))


def lint_bundle(bundle: Bundle) -> LintResult:
    """Run every check on ``bundle``; the result carries the specs when no error was found."""
    result = LintResult()
    trees = _parse_xml(bundle, result)
    parser = AftersalesParser()
    refused: dict[str, set[str]] = {}  # file → ids of elements our checks refused
    for path, tree in trees.items():
        ok = _validate_xsd(path, tree, result)
        ok = _check_ids(path, tree, result) and ok
        _check_extensions(path, tree, result)
        refused[path] = check_dialects(path, tree, result.add) | check_scripts(path, tree, result.add)
        if path.endswith(".bpmn"):
            check_timers(path, tree, result.add)
            check_duties(path, tree, result.add)
            refused[path] |= check_refused(path, tree, result.add)
        if ok:
            _add_to_parser(parser, path, tree, result)
    _check_references(trees, result)
    _check_flows(trees, result)
    _check_json(bundle, result)
    _lint_forms(bundle, trees, result)
    check_translations(bundle, trees, result.add)
    lint_message_templates(bundle, result.add)
    result.problems.extend(message_contracts.lint_contracts(bundle, trees))
    _build_specs(parser, trees, result)
    for name, spec in result.specs.items():
        _lint_spec(bundle, name, spec, result)
    _drop_parser_echoes(result, refused)
    return result


def _drop_parser_echoes(result: LintResult, refused: dict[str, set[str]]) -> None:
    """Drop SpiffWorkflow's failure on an element we refused already: ours says what to use instead. A file
    with a dangling sequence flow gets SpiffWorkflow's failure too ("we found two items, perhaps a form has
    the same ID?", on another element): the flow's own finding says it plainly."""
    dangling = {p.file for p in result.problems if p.rule == "flows"}
    result.problems = [p for p in result.problems if not (p.rule == "parse" and (p.file in dangling or (
        refused.get(p.file) and (p.element_id is None or p.element_id in refused[p.file]))))]


def _parse_xml(bundle: Bundle, result: LintResult) -> dict[str, Any]:
    trees: dict[str, Any] = {}
    for kind in ("bpmn", "dmn"):
        for path, content in bundle.of_kind(kind).items():
            try:
                # comments and processing instructions carry nothing a process runs on; dropped here
                # so that no check (nor SpiffWorkflow's parser) trips over them
                trees[path] = etree.fromstring(content, etree.XMLParser(
                    resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True))
            except etree.XMLSyntaxError as exc:
                result.add(path, finding("not well-formed XML: {detail}", detail=exc.msg), line=exc.lineno, rule="xml")
    return trees


def _validate_xsd(path: str, root: Any, result: LintResult) -> bool:
    if not path.endswith(".bpmn"):
        return True
    VALIDATOR.preprocess(root)
    if VALIDATOR.validator.validate(root):
        return True
    for error in VALIDATOR.validator.error_log:
        result.add(path, finding("schema validation: {detail}", detail=error.message), line=error.line, rule="xsd")
    return False


def _check_ids(path: str, root: Any, result: LintResult) -> bool:
    """SpiffWorkflow 3.2 indexes extension ids too: an operator id equal to an element id breaks it."""
    element_ids = {el.get("id"): el for el in root.iter(f"{{{BPMN_NS}}}*") if el.get("id")}
    ok = True
    for tag in ("serviceTaskOperator", "parameter"):
        for ext in root.iter(f"{{{SPIFF_NS}}}{tag}"):
            ext_id = ext.get("id")
            if ext_id in element_ids:
                ok = False
                result.add(path, finding("{tag} id '{id}' equals the id of a BPMN element; rename the element "
                                         "(SpiffWorkflow 3.2 cannot tell them apart)", tag=tag, id=ext_id),
                           ext_id, ext.sourceline, "ids")
    return ok


def _check_extensions(path: str, root: Any, result: LintResult) -> None:
    for ext in root.iter(f"{{{SPIFF_NS}}}*"):
        local = etree.QName(ext).localname
        if local in KNOWN_EXTENSIONS:
            continue
        owner = owner_id(ext)
        close = difflib.get_close_matches(local, KNOWN_EXTENSIONS, n=1, cutoff=0.75)
        if close:
            result.add(path, finding("unknown extension spiffworkflow:{name}; did you mean {suggestion}?", name=local,
                                     suggestion=close[0]),
                       owner, ext.sourceline, "extensions")
        else:
            result.add(path, finding("unknown extension spiffworkflow:{name} is ignored", name=local), owner,
                       ext.sourceline, "extensions", severity="warning")


def _add_to_parser(parser: AftersalesParser, path: str, root: Any, result: LintResult) -> None:
    try:
        if path.endswith(".dmn"):
            parser.add_dmn_xml(root, filename=path)
        else:
            parser.add_bpmn_xml(root, filename=path)
    except ValidationException as exc:
        result.add(path, finding("SpiffWorkflow parser: {detail}", detail=str(exc).split("\n")[0]), exc.id or None,
                   _line(exc), "parse")
    except Exception as exc:  # the parser has unwrapped errors (e.g. DMN comments)
        result.add(path, finding("cannot parse: {detail}", detail=f"{type(exc).__name__}: {exc}"), rule="parse")


def _line(exc: ValidationException) -> int | None:
    line = getattr(exc, "line_number", None)
    return int(line) if line not in (None, "") else None


def _check_references(trees: dict[str, Any], result: LintResult) -> None:
    processes = {p.get("id") for r in trees.values() for p in r.iter(f"{{{BPMN_NS}}}process")}
    decisions = {d.get("id") for r in trees.values() for d in r.iter() if etree.QName(d).localname == "decision"}
    for path, root in trees.items():
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            target = call.get("calledElement")
            if not target:
                result.add(path, finding("call activity names no process (calledElement)"), call.get("id"),
                           call.sourceline, "references")
            elif target not in processes:
                result.add(path, finding("call activity calls process '{process}', which is not in the bundle",
                                         process=target),
                           call.get("id"), call.sourceline, "references")
        for ref in root.iter(f"{{{SPIFF_NS}}}calledDecisionId"):
            name = (ref.text or "").strip()
            if name not in decisions:
                result.add(path, finding("business rule task calls decision '{decision}', which is not in the bundle",
                                         decision=name),
                           owner_id(ref), ref.sourceline, "references")


def _check_json(bundle: Bundle, result: LintResult) -> None:
    for path, content in bundle.of_kind("json").items():
        try:
            json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            result.add(path, finding("not valid JSON: {detail}", detail=str(exc)), rule="json")


def _build_specs(parser: AftersalesParser, trees: dict[str, Any], result: LintResult) -> None:
    names = {p.get("id"): (p.get("name") or p.get("id"), path)
             for path, r in trees.items() for p in r.iter(f"{{{BPMN_NS}}}process")}
    for process_id in parser.get_process_ids():
        file = names.get(process_id, ("", "?"))[1]
        try:
            spec = parser.get_spec(process_id)
            subs = parser.get_subprocess_specs(process_id)
        except ValidationException as exc:
            result.add(exc.file_name or file, finding("SpiffWorkflow parser: {detail}", detail=str(exc).split("\n")[0]),
                       exc.id or process_id, _line(exc), "parse")
            continue
        except Exception as exc:
            result.add(file, finding("cannot build process {process}: {detail}", process=process_id,
                                     detail=f"{type(exc).__name__}: {exc}"),
                       process_id, rule="parse")
            continue
        result.specs[process_id] = spec
        result.specs.update(subs)
        result.dependencies[process_id] = sorted(subs)
        lanes = sorted({ts.lane for ts in spec.task_specs.values() if getattr(ts, "lane", None)})
        result.lanes.update(lanes)
        result.processes.append({"process_id": process_id, "name": names.get(process_id, (process_id,))[0],
                                 "file": file, "lanes": lanes})
    for path, root in trees.items():
        if path.endswith(".dmn"):
            for d in root.iter():
                if etree.QName(d).localname == "decision":
                    result.decisions.append({"process_id": d.get("id"), "name": d.get("name") or d.get("id"),
                                             "file": path, "lanes": []})
    if not result.processes and not result.errors:
        result.add("(bundle)", finding("the bundle has no executable process (isExecutable=\"true\")"), rule="parse")


def _lint_spec(bundle: Bundle, name: str, spec: Any, result: LintResult) -> None:
    file = getattr(spec, "file", None) or "?"
    for ts in spec.task_specs.values():
        element = ts.name
        if isinstance(ts, HandlerServiceTask):
            _lint_service(file, element, ts, result)


def _lint_service(file: str, element: str, ts: HandlerServiceTask, result: LintResult) -> None:
    try:
        handler = get_handler(ts.operation_name)
    except HandlerError as exc:
        result.add(file, finding(exc.template, **exc.params) if exc.template and not exc.plural else exc.message,
                   element, rule="handlers")
        return
    for problem in handler.check_arguments(set(ts.operation_params)):
        result.add(file, finding("operator '{operator}': {detail}", operator=ts.operation_name, detail=problem),
                   element, rule="handlers")


def _check_flows(trees: dict[str, Any], result: LintResult) -> None:
    """Name dangling sequence flows plainly (SpiffWorkflow's own message misleads)."""
    for path, root in trees.items():
        for container in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess"):
            ids = {el.get("id") for el in container if el.get("id")}
            for flow in container.findall(f"{{{BPMN_NS}}}sequenceFlow"):
                for end in ("sourceRef", "targetRef"):
                    ref = flow.get(end)
                    if ref not in ids:
                        result.add(path, finding("sequence flow '{flow}' has {end} '{ref}', which is not an element of "
                                                 "'{container}'", flow=flow.get("id"), end=end, ref=ref,
                                                 container=container.get("id")), flow.get("id"),
                                   flow.sourceline, "flows")


def _lint_forms(bundle: Bundle, trees: dict[str, Any], result: LintResult) -> None:
    for path, root in trees.items():
        for prop in root.iter(f"{{{SPIFF_NS}}}property"):
            key, form = prop.get("name"), prop.get("value")
            if key not in ("formJsonSchemaFilename", "formUiSchemaFilename") or not form:
                continue
            element = owner_id(prop)
            content = _find_file(bundle, path, form)
            if content is None:
                result.add(path, finding("{property} '{file}' is not in the bundle", property=key, file=form), element,
                           prop.sourceline, "forms")
                continue
            try:
                value = json.loads(content)
            except ValueError:
                continue  # reported by _check_json
            if key == "formJsonSchemaFilename":
                for message in forms.schema_problems(value):
                    result.add(form, message, element, rule="forms")


def _find_file(bundle: Bundle, bpmn_file: str, name: str) -> bytes | None:
    if name in bundle.files:
        return bundle.files[name]
    folder = bpmn_file.rpartition("/")[0]
    if folder and f"{folder}/{name}" in bundle.files:
        return bundle.files[f"{folder}/{name}"]
    matches = [c for p, c in sorted(bundle.files.items()) if p.endswith(f"/{name}")]
    return matches[0] if matches else None
