"""What the lint modules share about BPMN/DMN XML: namespaces, owners, lines.

A finding names the element a process owner sees in the modeler (a task, an event, a
flow, a message), not the inner node that holds the text (an event definition, a
``conditionExpression``), and the line of the file the text sits on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "complexGateway", "eventBasedGateway",
})
CONTAINERS = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
_INNER = frozenset({
    "conditionExpression", "condition", "formalExpression", "timeDate", "timeDuration", "timeCycle",
    "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "ioSpecification",
    "dataInputAssociation", "dataOutputAssociation", "correlationPropertyRetrievalExpression",
    "extensionElements", "script", "assignment", "transformation", "dataInput", "dataOutput", "inputSet",
    "outputSet", "performer", "humanPerformer", "potentialOwner", "resourceRole", "resourceAssignmentExpression",
})

#: ``add(file, message, element_id, line, rule, severity)`` — :meth:`engine.lint.LintResult.add`
Report = Callable[..., None]


def local(el: Any) -> str:
    """Return an element's tag without its namespace."""
    return etree.QName(el).localname


def is_bpmn(el: Any, *names: str) -> bool:
    """Tell whether ``el`` is a BPMN element (of one of ``names``, when given)."""
    if not isinstance(el.tag, str):
        return False  # comments, processing instructions
    qname = etree.QName(el)
    return qname.namespace == BPMN_NS and (not names or qname.localname in names)


def owner_id(el: Any) -> str | None:
    """Return the id of the element a modeler shows for ``el``: itself or its nearest owner.

    In BPMN that skips event definitions, expressions and extension elements (a timer's
    ``timeDuration`` belongs to its event); in DMN it is the nearest element with an id.
    """
    bpmn = etree.QName(el.getroottree().getroot()).namespace == BPMN_NS
    while el is not None:
        if isinstance(el.tag, str) and el.get("id") and (not bpmn or (
                etree.QName(el).namespace == BPMN_NS and not local(el).endswith("EventDefinition")
                and local(el) not in _INNER)):
            return el.get("id")
        el = el.getparent()
    return None


def text_line(el: Any, line_in_text: int | None = 1) -> int | None:
    """Return the file line of line ``line_in_text`` (1-based) of ``el``'s text.

    lxml reports the line on which an element's start tag ends, which is where its text
    begins; a CDATA section opening on that line does not move it.
    """
    if el.sourceline is None:
        return None
    return el.sourceline + max((line_in_text or 1) - 1, 0)


def executable(el: Any) -> bool:
    """Tell whether ``el`` is run: not inside a process marked isExecutable="false"."""
    process = next((a for a in el.iterancestors(f"{{{BPMN_NS}}}process")), None)
    if process is None and etree.QName(el).localname == "process":
        process = el
    return process is None or process.get("isExecutable", "true") == "true"
