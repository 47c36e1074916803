"""The shape of a deployed process as drawn: its elements and sequence flows, from the BPMN.

Traces and heatmaps need what SpiffWorkflow's specs no longer say plainly: the ids of
sequence flows, which element a boundary event is attached to, which process a call
activity calls, and which file holds the diagram of a process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import NotFound
from .models import DeploymentFile, ProcessDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
_SKIP = {"laneSet", "lane", "extensionElements", "documentation", "incoming", "outgoing",
         "ioSpecification", "dataInputAssociation", "dataOutputAssociation", "property",
         "conditionExpression", "script", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
         "textAnnotation", "association", "dataObject", "dataObjectReference", "dataStoreReference"}


@dataclass(frozen=True)
class Node:
    """One flow element of a process (task, event, gateway, subprocess …)."""

    id: str
    type: str
    name: str
    process_id: str
    parent: str | None = None  # the enclosing subprocess, if any
    attached_to: str | None = None
    called_element: str | None = None
    interrupting: bool = True  # a boundary event that cuts its activity off (cancelActivity)


@dataclass
class Graph:
    """The elements and sequence flows of one process (its embedded subprocesses included)."""

    process_id: str
    file: str
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: dict[str, tuple[str, str]] = field(default_factory=dict)

    def sources_of(self, element_id: str) -> list[str]:
        """Return the elements with a sequence flow into ``element_id``."""
        return [s for s, t in self.flows.values() if t == element_id]

    def flows_between(self, source: str, target: str) -> list[str]:
        """Return the ids of the sequence flows from ``source`` to ``target``."""
        return [fid for fid, (s, t) in self.flows.items() if s == source and t == target]


def parse_graphs(path: str, content: bytes) -> dict[str, Graph]:
    """Return a graph for every process of a BPMN file."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(content, parser)
    graphs: dict[str, Graph] = {}
    for proc in root.iter(f"{{{BPMN_NS}}}process"):
        graph = Graph(proc.get("id") or "", path)
        _walk(proc, graph, None)
        graphs[graph.process_id] = graph
    return graphs


def _walk(container: etree._Element, graph: Graph, parent: str | None) -> None:
    for child in container:
        if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        tag = etree.QName(child).localname
        if tag in _SKIP or child.get("id") is None:
            continue
        if tag == "sequenceFlow":
            graph.flows[child.get("id")] = (child.get("sourceRef") or "", child.get("targetRef") or "")
            continue
        graph.nodes[child.get("id")] = Node(
            child.get("id"), tag, child.get("name") or "", graph.process_id, parent,
            child.get("attachedToRef"), child.get("calledElement"), child.get("cancelActivity") != "false")
        if tag in _CONTAINERS:
            _walk(child, graph, child.get("id"))


def process_file(session: Session, deployment_id: int, process_id: str) -> tuple[str, bytes]:
    """Return the path and content of the file that defines ``process_id`` in a deployment."""
    path = session.scalar(select(ProcessDefinition.file).where(
        ProcessDefinition.deployment_id == deployment_id, ProcessDefinition.process_id == process_id))
    if path is None:
        raise NotFound("process '{process_id}' is not part of deployment {deployment_id}",
                       params={"process_id": process_id, "deployment_id": deployment_id})
    content = session.scalar(select(DeploymentFile.content).where(
        DeploymentFile.deployment_id == deployment_id, DeploymentFile.path == path))
    if content is None:
        raise NotFound("file '{path}' of deployment {deployment_id} is missing",
                       params={"path": path, "deployment_id": deployment_id})
    return path, content


def graph_for(session: Session, deployment_id: int, process_id: str) -> Graph:
    """Return the graph of ``process_id`` as deployed in ``deployment_id``."""
    path, content = process_file(session, deployment_id, process_id)
    graph = parse_graphs(path, content).get(process_id)
    if graph is None:
        raise NotFound("process '{process_id}' is not in {path}", params={"process_id": process_id, "path": path})
    return graph


def graphs_of(session: Session, deployment_id: int) -> dict[str, Graph]:
    """Return the graph of every process of a deployment."""
    graphs: dict[str, Graph] = {}
    for path, content in session.execute(select(DeploymentFile.path, DeploymentFile.content).where(
            DeploymentFile.deployment_id == deployment_id, DeploymentFile.kind == "bpmn")):
        graphs.update(parse_graphs(path, content))
    return graphs
