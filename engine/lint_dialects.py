"""Other engines' dialects: reported with the spiffworkflow way of saying the same thing.

SpiffWorkflow reads the ``spiffworkflow:`` extensions and Python; it silently skips
Camunda, Zeebe, Flowable, Activiti and jBPM extensions, and runs a JUEL condition or a
JavaScript script as Python. A bundle drawn for one of those engines would deploy and
then route tokens wrongly, so every such extension, expression and script language is
an error at validate (pure bookkeeping attributes are warnings), each with what to use.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from lxml import etree

from .errors import finding
from .lint_xml import Report, local, owner_id

VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda 7",
    "http://camunda.org/schema/1.0/dmn": "Camunda 7",
    "http://camunda.org/schema/zeebe/1.0": "Camunda 8 / Zeebe",
    "http://flowable.org/bpmn": "Flowable",
    "http://flowable.org/dmn": "Flowable",
    "http://activiti.org/bpmn": "Activiti",
    "http://www.jboss.org/drools": "jBPM",
}
_LANE = ("put the task in a lane whose name maps to the role (lane \"Warehouse\" → role warehouse); "
         "staff claim it in the tasklist and supervisors reassign it")
_FORM = ("name a JSON Schema form in spiffworkflow:properties: <spiffworkflow:property "
         "name=\"formJsonSchemaFilename\" value=\"….schema.json\"/> (and formUiSchemaFilename)")
_SERVICE = ("use spiffworkflow:serviceTaskOperator naming a registered handler (`aftersales handlers` "
            "lists them), its arguments as spiffworkflow:parameter")
_MAPPING = "map variables in Python with spiffworkflow:preScript / spiffworkflow:postScript"
_LISTENER = "run Python in spiffworkflow:preScript / postScript, or add a service task calling a handler"
_SCRIPT = "write Python in bpmn:script (script task) or spiffworkflow:preScript / postScript"
_DECISION = "name the decision with spiffworkflow:calledDecisionId; its outputs become task data"
_LOOP = "use bpmn:loopDataInputRef and bpmn:inputDataItem in bpmn:multiInstanceLoopCharacteristics"
_ASYNC = ("each trigger is one transaction that runs until every token waits; a failing handler is "
          "retried and then becomes an incident")
HINTS = {
    **dict.fromkeys(("assignee", "candidateGroups", "candidateUsers", "assignmentDefinition",
                     "potentialOwner", "actorId", "groupId"), _LANE),
    **dict.fromkeys(("formKey", "formRef", "formRefBinding", "formRefVersion", "formData", "formField",
                     "formProperty", "formDefinition", "formHandlerClass", "form", "userTask"), _FORM),
    **dict.fromkeys(("class", "expression", "delegateExpression", "type", "topic", "connector", "connectorId",
                     "taskDefinition", "operation"), _SERVICE),
    **dict.fromkeys(("field", "taskHeaders", "header"), "pass values as spiffworkflow:parameter of the "
                                                          "spiffworkflow:serviceTaskOperator"),
    "resultVariable": "set resultVariable on spiffworkflow:serviceTaskOperator (or use a postScript)",
    **dict.fromkeys(("inputOutput", "ioMapping", "inputParameter", "outputParameter", "input", "output",
                     "dataInputAssociation"), _MAPPING),
    **dict.fromkeys(("in", "out"), "a call activity shares task data with the called process; select "
                                   "variables with spiffworkflow:preScript / postScript"),
    **dict.fromkeys(("executionListener", "taskListener", "executionListeners", "taskListeners",
                     "onEntry-script", "onExit-script"), _LISTENER),
    **dict.fromkeys(("properties", "property"), "use spiffworkflow:properties / spiffworkflow:property"),
    **dict.fromkeys(("decisionRef", "decisionRefBinding", "decisionRefVersion", "decisionRefTenantId",
                     "mapDecisionResult", "calledDecision", "decisionTableReferenceKey"), _DECISION),
    "calledElement": "set calledElement on bpmn:callActivity to the id of a process in the bundle",
    **dict.fromkeys(("calledElementBinding", "calledElementVersion", "calledElementVersionTag",
                     "calledElementTenantId", "calledElementType", "variableMappingClass",
                     "variableMappingDelegateExpression"),
                    "a call activity calls the process of the same deployment; remove it"),
    "subscription": ("correlate messages with bpmn:correlationProperty and "
                     "spiffworkflow:processVariableCorrelation"),
    **dict.fromkeys(("collection", "elementVariable", "loopCharacteristics"), _LOOP),
    **dict.fromkeys(("errorCodeVariable", "errorMessageVariable"),
                    "name the variable with spiffworkflow:variableName in the bpmn:error"),
    "escalationCodeVariable": "name the variable with spiffworkflow:variableName in the bpmn:escalation",
    "initiator": ("the engine records who started an instance in the audit trail; pass what the process "
                  "needs in the start data"),
    **dict.fromkeys(("candidateStarterGroups", "candidateStarterUsers", "potentialStarter"),
                    "who may start a process is decided by roles and API keys, not in the model"),
    **dict.fromkeys(("dueDate", "followUpDate", "taskSchedule"),
                    "due times come from SLA clocks: a timer boundary event or the sla handlers"),
    "priority": "set a priority variable (the priority_sla decision does); the tasklist sorts by it",
    "priorityDefinition": "set a priority variable (the priority_sla decision does); the tasklist sorts by it",
    "failedJobRetryTimeCycle": ("handler retries are engine settings (AFTERSALES_HANDLER_MAX_ATTEMPTS, "
                                "AFTERSALES_HANDLER_BACKOFF_SECONDS)"),
    **dict.fromkeys(("script", "resource"), _SCRIPT),
    **dict.fromkeys(("variableName", "variableEvents"), "a conditional event's condition is Python over "
                                                        "task data; remove it"),
    "errorEventDefinition": ("raise a BusinessError in the handler and catch it with an error boundary "
                             "event (bpmn:error with that errorCode)"),
    "inputVariable": "a decision reads task data by name in its input expressions; remove it",
    **dict.fromkeys(("async", "asyncBefore", "asyncAfter", "exclusive", "jobPriority", "taskPriority"), _ASYNC),
}
#: Bookkeeping for another engine: reported as warnings ("ignored; remove it").
IGNORED = frozenset({
    "versionTag", "historyTimeToLive", "isStartableInTasklist", "modelerTemplate", "modelerTemplateVersion",
    "modelerTemplateIcon", "linkedResources", "async", "asyncBefore", "asyncAfter", "exclusive",
    "jobPriority", "taskPriority", "executionPlatform", "executionPlatformVersion",
})
_GENERIC = "aftersales runs the spiffworkflow dialect only: say it with spiffworkflow extensions or remove it"
PYTHON_FORMATS = frozenset({"python", "python3", "py", "text/x-python", "text/python", "application/x-python"})
_FOREIGN_LANGUAGE = re.compile(r"\b(feel|juel|javascript|ecmascript|js|groovy|mvel|jexl|el|ruby|jruby|"
                               r"kotlin|nashorn|graal\.js)\b", re.IGNORECASE)
_JUEL = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)
_FEEL = re.compile(r"^\s*=(?!=)(?P<body>.*)$", re.DOTALL)
_CAMUNDA_API = re.compile(r"\bexecution\s*\.\s*(get|set|remove)Variables?(Local)?\s*\(")


def check_dialects(path: str, root: Any, add: Report) -> set[str]:
    """Report other engines' extensions, attributes and languages in one file; return the ids in error."""
    reported: set[str] = set()

    def report(file: str, message: str, element: str | None, line: int | None, rule: str,
               severity: str = "error") -> None:
        if severity == "error":
            reported.add(element or "")
        add(file, message, element, line, rule, severity)

    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        namespace = etree.QName(el).namespace
        parent = el.getparent()
        if namespace in VENDORS and (parent is None or etree.QName(parent).namespace not in VENDORS):
            tag = f"<{_prefixed(el, el.tag)}>"  # the XML as written, a value of the finding
            _report(path, el, tag, local(el), VENDORS[namespace], report)
        for name, value in el.attrib.items():
            attr = etree.QName(name)
            if attr.namespace in VENDORS:
                written = f"{_prefixed(el, name)}=\"{value}\""
                _report(path, el, written, attr.localname, VENDORS[attr.namespace], report)
        _check_language(path, el, report)
    return reported


def _report(path: str, el: Any, shown: str, name: str, vendor: str, add: Report) -> None:
    element = owner_id(el)
    if name in IGNORED:
        add(path, finding("{shown} ({vendor}) is ignored by aftersales: {hint}; remove it", shown=shown,
                          vendor=vendor, hint=HINTS.get(name, "bookkeeping of that engine")),
            element, el.sourceline, "dialects", "warning")
    else:
        add(path, finding("{shown} ({vendor}) is not run by aftersales: {hint}", shown=shown, vendor=vendor,
                          hint=HINTS.get(name, _GENERIC)), element, el.sourceline, "dialects")


def _prefixed(el: Any, name: str) -> str:
    qname = etree.QName(name)
    prefix = next((p for p, uri in (el.nsmap or {}).items() if uri == qname.namespace and p), None)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _check_language(path: str, el: Any, add: Report) -> None:
    for attr in ("scriptFormat", "language", "expressionLanguage"):
        value = el.get(attr)
        if value is None:
            continue
        foreign = value.strip().lower() not in PYTHON_FORMATS and (
            attr == "scriptFormat" or _FOREIGN_LANGUAGE.search(value) is not None)
        if foreign:
            what = "script" if attr == "scriptFormat" else "expression"
            add(path, finding("{attribute}=\"{value}\": aftersales runs every {what} as Python (RestrictedPython); "
                              "rewrite it in Python and set {attribute}=\"python\" or leave the attribute out",
                              attribute=attr, value=value, what=what),
                owner_id(el), el.sourceline, "dialects")


_DIALECTS = ((_JUEL, "a JUEL expression (Camunda 7, Flowable, Activiti)"), (_FEEL, "a FEEL expression (Camunda 8)"))


def foreign_expression(text: str, what: str = "expression") -> str | None:
    """Return why ``text`` is JUEL/FEEL rather than Python, with the Python to write, or None."""
    for pattern, dialect in _DIALECTS:
        match = pattern.match(text)
        if match:
            python = to_python(match.group("body"), feel=pattern is _FEEL)
            if python:
                return finding("{what} '{text}' is {dialect}, but aftersales evaluates Python; write it in Python: "
                               "{python}", what=what, text=text.strip(), dialect=dialect, python=python)
            return finding("{what} '{text}' is {dialect}, but aftersales evaluates Python; rewrite it as a Python "
                           "expression", what=what, text=text.strip(), dialect=dialect)
    if _CAMUNDA_API.search(text):
        return finding("{what} uses Camunda's execution API (execution.getVariable / setVariable); in aftersales "
                       "read task data by name (amount) and assign to set it (approved = True)", what=what)
    return None


_JUEL_WORDS = [(r"&&", " and "), (r"\|\|", " or "), (r"!(?!=)", " not "), (r"\beq\b", "=="), (r"\bne\b", "!="),
               (r"\bgt\b", ">"), (r"\bge\b", ">="), (r"\blt\b", "<"), (r"\ble\b", "<="),
               (r"\bempty\s+", " not "), (r"\bnull\b", "None")]
_FEEL_WORDS = [(r"(?<![<>!=])=(?!=)", "=="), (r"\bnull\b", "None"), (r"\bnot\s*\(", "not ("),
               (r"\b(?:date and time|date|time|duration)\s*\(\s*(\"[^\"]*\")\s*\)", r"\1")]


def to_python(body: str, feel: bool = False) -> str | None:
    """Translate a simple JUEL/FEEL expression to Python; None when it is not simple."""
    text = re.sub(r"execution\s*\.\s*getVariable\(\s*[\"'](\w+)[\"']\s*\)", r"\1", body)
    for pattern, repl in (_FEEL_WORDS if feel else _JUEL_WORDS):
        text = re.sub(pattern, repl, text)
    text = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", text))
    text = re.sub(r"\s+", " ", text).strip().replace("!= None", "is not None").replace("== None", "is None")
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    return text or None


_FEEL_RANGE = re.compile(r"^\s*(?P<open>[\[\]\(])\s*(?P<low>[^.\s]+)\s*\.\.\s*(?P<high>[^.\s]+)\s*"
                         r"(?P<close>[\[\]\)])\s*$")
_FEEL_NOT = re.compile(r"^\s*not\s*\((?P<inner>.*)\)\s*$", re.DOTALL)


def feel_unary_test(text: str) -> str | None:
    """Return why a DMN input entry is a FEEL unary test rather than Python, with the Python to write."""
    entry = text.strip()
    python = None
    if (match := _FEEL_RANGE.match(entry)) is not None:
        kind = "a FEEL range"
        low, high = ("<=" if match["open"] == "[" else "<"), ("<=" if match["close"] == "]" else "<")
        python = f"{match['low']} {low} ? {high} {match['high']}"
    elif (match := _FEEL_NOT.match(entry)) is not None:
        kind = "a FEEL negation"
        inner = match["inner"].strip()
        python = f"not in ({inner})" if _is_tuple(inner) else f"!= {inner}"
    elif _is_tuple(entry):
        kind = "a FEEL list (any of them), but aftersales evaluates Python, where it is a tuple that never " \
               "equals the input"
        python = f"in ({entry})"
    if python is None:
        return None
    if "Python" not in kind:
        kind += ", but aftersales evaluates Python"
    return finding("input entry '{entry}' is {kind}; write it as {python}", entry=entry, kind=kind, python=python)


def _is_tuple(text: str) -> bool:
    try:
        return isinstance(ast.parse(text, mode="eval").body, ast.Tuple)
    except SyntaxError:
        return False
