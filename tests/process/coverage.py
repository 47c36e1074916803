"""Which sequence flows and boundary events of ``processes/`` the scenarios take.

A flow is taken when, in some instance's task tree, a task of its target element has as
nearest BPMN ancestor a completed task of its source element (SpiffWorkflow grows the
tree along the flows it follows, loops and call activities included). A boundary event
is taken when one of its tasks completed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine import store
from engine.models import Instance

if TYPE_CHECKING:
    from tests.process.driver import Case, Desk

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SCENARIO_PREFIX = "tests/process/test_journey_"
HERE = Path(__file__).parent
#: how each scenario test ended in this process, node id → outcomes (under xdist the controller
#: sees every worker's reports, see tests/process/flow_coverage_plugin.py)
scenario_results: dict[str, list[str]] = {}


def is_scenario(nodeid: str) -> bool:
    """Tell whether a test node is a scenario test."""
    return nodeid.startswith(SCENARIO_PREFIX)


def is_coverage_test(item: Any) -> bool:
    """Tell whether a collected item is the flow-coverage check."""
    return item.nodeid.startswith("tests/process/test_flow_coverage.py")


def scenario_tests() -> list[str]:
    """Return the node-id prefixes of every scenario test function."""
    found = []
    for path in sorted(HERE.glob("test_journey_*.py")):
        module = importlib.import_module(f"tests.process.{path.stem}")
        found += [f"tests/process/{path.name}::{name}" for name in sorted(vars(module))
                  if name.startswith("test_") and callable(getattr(module, name))]
    return found


def passed(prefix: str) -> bool:
    """Tell whether a scenario passed on at least one database and failed on none."""
    outcomes = [o for nodeid, results in scenario_results.items()
                if nodeid == prefix or nodeid.startswith(prefix + "[") for o in results]
    return "passed" in outcomes and "failed" not in outcomes


def not_passed() -> list[str]:
    """Return the scenario tests that did not run, or did not pass, in this session."""
    return [name for name in scenario_tests() if not passed(name)]


@dataclass(frozen=True)
class Model:
    """The flows (id → (source, target)) and boundary events of the bundle's BPMN files."""

    flows: dict[str, tuple[str, str]]
    boundaries: set[str]
    files: dict[str, str]


def journey_files(folder: Path, top: str = "after_sales") -> list[Path]:
    """Return the BPMN files of process ``top`` and of every process it calls, directly or not."""
    by_process: dict[str, tuple[Path, Any]] = {}
    for path in sorted(folder.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for process in root.iter(f"{BPMN}process"):
            by_process[process.get("id")] = (path, root)
    found, todo = [], [top]
    while todo:
        name = todo.pop()
        path, root = by_process[name]
        if path in found:
            continue
        found.append(path)
        todo += [call.get("calledElement") for call in root.iter(f"{BPMN}callActivity")]
    return sorted(found)


def read_model(folder: Path) -> Model:
    """Read every sequence flow and boundary event of the after-sales journey's BPMN files."""
    flows: dict[str, tuple[str, str]] = {}
    boundaries: set[str] = set()
    files: dict[str, str] = {}
    for path in journey_files(folder):
        root = etree.parse(str(path)).getroot()
        for flow in root.iter(f"{BPMN}sequenceFlow"):
            flows[flow.get("id")] = (flow.get("sourceRef"), flow.get("targetRef"))
            files[flow.get("id")] = path.name
        for event in root.iter(f"{BPMN}boundaryEvent"):
            boundaries.add(event.get("id"))
            files[event.get("id")] = path.name
    return Model(flows, boundaries, files)


def _bpmn_parent(task: Any) -> Any:
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent


REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass
class FlowLog:
    """Flows and boundary events taken by the scenario instances of a test session."""

    flows: set[tuple[str, str]] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)

    def record(self, desk: Desk, case: Case) -> None:
        """Add what ``case``'s instance took (read from its stored task tree)."""
        if not case.instance_id:
            return

        def tree(session: Any) -> list[Any]:
            instance = session.get(Instance, case.instance_id)
            return store.read_workflow(session, instance, desk.runtime.specs).get_tasks()

        for task in desk.read(tree):
            spec = task.task_spec
            if spec.bpmn_id is None or not task.has_state(REACHED):
                continue
            if task.has_state(TaskState.COMPLETED):
                self.completed.add(spec.bpmn_id)
            parent = _bpmn_parent(task)
            if parent is not None and parent.has_state(TaskState.COMPLETED):
                self.flows.add((parent.task_spec.bpmn_id, spec.bpmn_id))

    def untaken(self, model: Model) -> list[str]:
        """Describe every flow and boundary event of ``model`` that no instance took."""
        missing = [f"sequence flow {fid} ({src} → {tgt}) in {model.files[fid]}"
                   for fid, (src, tgt) in sorted(model.flows.items()) if (src, tgt) not in self.flows]
        missing += [f"boundary event {bid} in {model.files[bid]}"
                    for bid in sorted(model.boundaries) if bid not in self.completed]
        return missing


#: the flows and boundary events taken by this process's scenarios (merged from every worker on
#: the xdist controller)
session_log = FlowLog()
