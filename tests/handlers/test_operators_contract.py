"""Completeness: every operator of docs/operators.md (and of processes/) is registered with
exactly its parameters, documented, and raises the business errors the contract names."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from lxml import etree

from engine.registry import all_handlers

ROOT = Path(__file__).parents[2]
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


def contract() -> dict[str, tuple[list[str], set[str], list[str]]]:
    """Return ``{operator: (parameters, optional ones, business error codes)}`` from docs/operators.md."""
    operators = {}
    for line in (ROOT / "docs" / "operators.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.fullmatch(r"`[a-z]+\.[a-z_]+`", cells[0]):
            continue
        params, optional = cells[1], set()
        while re.search(r"\([^()]*\)", params):
            for name, note in re.findall(r"(\w+)\s*\(([^()]*)\)", params):
                if "optional" in note:
                    optional.add(name)
            params = re.sub(r"\([^()]*\)", "", params)
        codes = re.findall(r"[A-Z][A-Z_]+", cells[3])
        operators[cells[0].strip("`")] = ([p.strip() for p in params.split(",") if p.strip()], optional, codes)
    return operators


def sources_behind(func) -> str:
    """Return the source of a handler's module and of the handler modules whose functions it uses."""
    module = inspect.getmodule(inspect.unwrap(func))
    used = {inspect.getmodule(v) for v in vars(module).values()
            if inspect.isfunction(v) and v.__module__.startswith("handlers.")}
    return "\n".join(inspect.getsource(m) for m in {module, *used})


CONTRACT = contract()
HANDLERS = {name: h for name, h in all_handlers().items() if not name.startswith("test.")}


def test_the_contract_lists_every_operator():
    assert len(CONTRACT) >= 19
    assert sorted(HANDLERS) == sorted(CONTRACT), "registered handlers and docs/operators.md differ"


@pytest.mark.parametrize("operator", sorted(CONTRACT))
def test_each_operator_is_registered_with_exactly_its_parameters(operator):
    handler = HANDLERS[operator]
    parameters, optional, codes = CONTRACT[operator]
    assert [p.name for p in handler.parameters] == parameters
    assert {p.name for p in handler.parameters if not p.required} == optional
    assert handler.wants_context and not handler.accepts_any
    source = sources_behind(handler.func)
    for code in codes:
        assert f'"{code}"' in source, f"{operator} never raises {code}"


@pytest.mark.parametrize("operator", sorted(HANDLERS))
def test_each_handler_is_documented_for_process_owners(operator):
    handler = HANDLERS[operator]
    assert handler.doc and handler.doc[0].isupper() and handler.doc.endswith("."), handler.doc
    assert all(p.annotation for p in handler.parameters), "every parameter needs a type for `aftersales handlers`"


def service_tasks() -> list[tuple[str, str, set[str]]]:
    found = []
    for path in sorted((ROOT / "processes").rglob("*.bpmn")):
        for node in etree.parse(str(path)).iter(f"{SPIFF}serviceTaskOperator"):
            params = {p.get("id") for p in node.iter(f"{SPIFF}parameter")}
            found.append((path.relative_to(ROOT).as_posix(), node.get("id"), params))
    return found


@pytest.mark.parametrize(("file", "operator", "params"), service_tasks() or [pytest.param("", "", set(), marks=[
    pytest.mark.skip(reason="processes/ has no BPMN yet")])])
def test_every_service_task_in_processes_names_a_handler_with_its_parameters(file, operator, params):
    assert operator in HANDLERS, f"{file}: operator {operator!r} is not registered"
    assert HANDLERS[operator].check_arguments(params) == [], file
