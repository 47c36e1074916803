"""BPMN that SpiffWorkflow 3.2 parses (or skips) but aftersales cannot run as the standard says.

Each was tried on the engine before being refused here:

* compensation — a compensation boundary event fails to parse, a compensation throw
  event passes as a no-op, and an ``isForCompensation`` activity is never parsed: nothing
  is ever undone;
* a cancel end event outside a transaction, or in one without a cancel boundary event,
  ends like a plain end event;
* complex gateways do not parse; ad-hoc subprocesses offer all their tasks and fail when
  one is completed (``KeyError: 'data_objects'``);
* an event with several event definitions waits for its timer but never subscribes to
  its message;
* data stores have no implementation; performers, potential owners and data association
  assignments are skipped;
* a condition on a flow that does not leave an exclusive or inclusive gateway is never
  evaluated (the flow is always taken);
* a flow node no sequence flow leads to is never parsed, so it never runs.

Transactions with a cancel boundary, escalations, loops and multi-instance activities
ran right and are not refused.
"""

from __future__ import annotations

from typing import Any

from .errors import finding
from .lint_xml import BPMN_NS, CONTAINERS, FLOW_NODES, Report, executable, is_bpmn, local, owner_id

_GATEWAYS_WITH_CONDITIONS = frozenset({"exclusiveGateway", "inclusiveGateway"})
_PERFORMERS = frozenset({"performer", "humanPerformer", "potentialOwner", "resourceRole"})


def check_refused(path: str, root: Any, add: Report) -> set[str]:
    """Report what aftersales cannot run in one BPMN file; return the ids reported."""
    refused: set[str] = set()

    def refuse(el: Any, message: str) -> None:
        element = owner_id(el)
        refused.add(element or "")
        add(path, message, element, el.sourceline, "refused")

    for el in root.iter(f"{{{BPMN_NS}}}*"):
        if not executable(el):
            continue
        name = local(el)
        if name == "compensateEventDefinition":
            refuse(el, finding("compensation {kind}: aftersales does not run compensation, so nothing would be undone: "
                               "model the undo step as an ordinary task on the path that needs it (after an error "
                               "boundary event or a gateway)", kind=_event_kind(el.getparent())))
        elif el.get("isForCompensation") == "true":
            refuse(el, finding("activity marked isForCompensation never runs: aftersales does not run compensation, so "
                               "nothing would be undone: model the undo step as an ordinary task on the path that "
                               "needs it (after an error boundary event or a gateway)"))
        elif name == "cancelEventDefinition":
            _check_cancel(el, refuse)
        elif name == "complexGateway":
            refuse(el, finding("complex gateways are not run by SpiffWorkflow 3.2: split with an inclusive gateway (a "
                               "condition on each outgoing flow) and join with an inclusive or parallel gateway"))
        elif name == "adHocSubProcess":
            refuse(el, finding("ad-hoc subprocesses do not run in aftersales (completing one of their tasks fails): "
                               "put the optional tasks behind an inclusive gateway, or loop through an exclusive "
                               "gateway asking what to do next"))
        elif name in FLOW_NODES and name.endswith("Event") and _definitions(el) > 1:
            refuse(el, _multiple(el))
        elif name in ("dataStore", "dataStoreReference"):
            refuse(el, finding("data stores do nothing in aftersales: read and write outside data in a service task "
                               "(a registered handler) and keep process data in task data or a data object"))
        elif name in _PERFORMERS:
            refuse(el, finding("bpmn:{name} is not used to assign tasks: put the task in a lane whose name maps to "
                               "the role (lane \"Warehouse\" → role warehouse)", name=name))
        elif name in ("assignment", "transformation"):
            refuse(el, finding("data association {name}s are not run: compute the value in a "
                               "spiffworkflow:preScript or postScript", name=name))
        elif name == "conditionExpression":
            _check_condition_source(el, root, refuse)
    for container in root.iter(*(f"{{{BPMN_NS}}}{c}" for c in CONTAINERS - {"adHocSubProcess"})):
        if executable(container):
            _check_reachable(container, refuse)
    return refused


def _event_kind(event: Any) -> str:
    kinds = {"boundaryEvent": "boundary event", "intermediateThrowEvent": "throw event",
             "endEvent": "end event", "startEvent": "start event (event subprocess)"}
    return kinds.get(local(event), "event")


def _definitions(event: Any) -> int:
    return sum(1 for child in event if is_bpmn(child) and
               (local(child).endswith("EventDefinition") or local(child) == "eventDefinitionRef"))


def _multiple(event: Any) -> str:
    if local(event) in ("endEvent", "intermediateThrowEvent"):
        return finding("an event with several event definitions (multiple) is not run by aftersales: use one "
                       "throw event per result, one after the other")
    return finding("an event with several event definitions (multiple) is not run by aftersales: use an "
                   "event-based gateway followed by one catch event per trigger")


def _check_cancel(definition: Any, refuse: Any) -> None:
    event = definition.getparent()
    kind, container = local(event), event.getparent()
    if kind == "endEvent":
        if local(container) != "transaction":
            refuse(definition, finding("a cancel end event outside a transaction ends like a plain end event: use an "
                                       "error end event and an error boundary event on the subprocess"))
        elif not _cancel_boundary(container):
            refuse(definition, finding("this cancel end event ends transaction '{transaction}' like a plain end "
                                       "event: add a cancel boundary event to the transaction",
                                       transaction=container.get("id")))
    elif kind == "boundaryEvent":
        attached = event.get("attachedToRef")
        target = next((el for el in container if el.get("id") == attached), None)
        if target is None or local(target) != "transaction":
            refuse(definition, finding("a cancel boundary event on '{element}', which is not a transaction, never "
                                       "fires: use an error boundary event", element=attached))
    else:
        refuse(definition, finding("a cancel event is only an end event inside a transaction or a boundary event on "
                                   "one: use an error event"))


def _cancel_boundary(transaction: Any) -> bool:
    for boundary in transaction.getparent().iter(f"{{{BPMN_NS}}}boundaryEvent"):
        if boundary.get("attachedToRef") == transaction.get("id") and \
                boundary.find(f"{{{BPMN_NS}}}cancelEventDefinition") is not None:
            return True
    return False


def _check_condition_source(condition: Any, root: Any, refuse: Any) -> None:
    flow = condition.getparent()
    source = next((el for el in flow.getparent() if el.get("id") == flow.get("sourceRef")), None)
    if source is None or local(source) in _GATEWAYS_WITH_CONDITIONS | {"complexGateway"}:
        return  # a dangling flow is reported by the flows check
    if local(source) == "parallelGateway":
        refuse(condition, finding("the condition of a flow leaving parallelGateway '{source}' is never evaluated "
                                  "(the flow is always taken): a parallel gateway takes every flow: use an "
                                  "inclusive gateway to take the flows whose condition holds",
                                  source=source.get("id")))
    else:
        refuse(condition, finding("the condition of a flow leaving {kind} '{source}' is never evaluated (the flow "
                                  "is always taken): put an exclusive gateway after '{source}' and the condition "
                                  "on its outgoing flow", kind=local(source), source=source.get("id")))


def _check_reachable(container: Any, refuse: Any) -> None:
    nodes = {el.get("id"): el for el in container if is_bpmn(el, *FLOW_NODES) and el.get("id")}
    starts = [i for i, el in nodes.items() if local(el) == "startEvent"]
    if not starts:
        return  # SpiffWorkflow refuses a process or subprocess without a start event itself
    outgoing: dict[str, list[str]] = {}
    for flow in container.iterchildren(f"{{{BPMN_NS}}}sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    reached = set()
    todo = [i for i, el in nodes.items() if _is_entry(el)]
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo.extend(outgoing.get(current, []))
    for node_id, el in nodes.items():
        if node_id in reached or el.get("isForCompensation") == "true":
            continue
        if not any(node_id in t for t in outgoing.values()):
            refuse(el, finding("{kind} '{element}' never runs: no sequence flow leads to it; connect it to the "
                               "flow from a start event, or remove it", kind=local(el), element=node_id))
        else:
            refuse(el, finding("{kind} '{element}' never runs: the only flows into it come from elements that "
                               "never run; connect it to the flow from a start event, or remove it",
                               kind=local(el), element=node_id))


def _is_entry(el: Any) -> bool:
    """Start events, boundary events, event subprocesses and link catch events need no incoming flow."""
    name = local(el)
    if name in ("startEvent", "boundaryEvent") or (name == "subProcess" and el.get("triggeredByEvent") == "true"):
        return True
    return name == "intermediateCatchEvent" and el.find(f"{{{BPMN_NS}}}linkEventDefinition") is not None
