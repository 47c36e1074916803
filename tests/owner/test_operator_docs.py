"""Every operator the editor offers explains each of its parameters, from the handler's docstring."""

from __future__ import annotations

from engine.draft_review import _PARAM_DOC, operators
from engine.registry import PLUGIN_PACKAGES, all_handlers


def _operators() -> list[dict]:
    """The operators the shipped packages register (the suite's own ``test.*`` handlers left out)."""
    shipped = {name for name, h in all_handlers().items() if h.func.__module__.split(".")[0] in PLUGIN_PACKAGES}
    return [o for o in operators() if o["name"] in shipped]


def test_every_operator_parameter_has_a_doc_line():
    undocumented = [f"{o['name']}.{p['name']}" for o in _operators() for p in o["parameters"]
                    if not p["doc"].strip()]
    assert not undocumented, f"parameters without a doc line in their handler's docstring: {undocumented}"


def test_every_documented_name_is_a_parameter_of_its_operator():
    strays = []
    for o in _operators():
        names = {p["name"] for p in o["parameters"]}
        for line in o["details"].splitlines()[1:]:
            found = _PARAM_DOC.match(line)
            if found and found.group(1) not in names:
                strays.append(f"{o['name']}: {line.strip()!r}")
    assert not strays, f"docstring lines read as parameter docs for no such parameter: {strays}"


def test_the_registry_offers_operators_and_the_context_is_not_a_parameter():
    ops = _operators()
    assert {"notify.send", "ticketing.open_ticket", "sla.start_clock"} <= {o["name"] for o in ops}
    assert all(p["name"] != "ctx" for o in ops for p in o["parameters"])
    assert all(o["doc"] and "\n" not in o["doc"] for o in ops), "an operator's summary is its docstring's first line"
