"""Check the separation-of-duties property (``excludePerformersOf``, :mod:`engine.duties`) at deploy.

The property belongs on a human task and names human tasks of the same process; a name that is
not one (a typo, a task of another process, a gateway) would silently never bar anyone, so it is
an error naming the task that carries the property and the name it got wrong.
"""

from __future__ import annotations

import difflib
from typing import Any

from .duties import PROPERTY, excluded_ids
from .errors import finding
from .lint_xml import BPMN_NS, SPIFF_NS, Report, is_bpmn, local, owner_id

HUMAN_TASKS = frozenset({"userTask", "manualTask", "task"})


def check_duties(path: str, root: Any, add: Report) -> None:
    """Report every ``excludePerformersOf`` property that is misplaced, empty or names no human task."""
    for prop in root.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") != PROPERTY:
            continue
        element = owner_id(prop)
        owner = _owner(prop)
        if owner is None or local(owner) not in HUMAN_TASKS:
            add(path, finding("{property} belongs on a user task; '{element}' is not one", property=PROPERTY,
                              element=element), element, prop.sourceline, "duties")
            continue
        ids = excluded_ids(prop.get("value"))
        if not ids:
            add(path, finding("{property} of '{element}' names no task: give the ids of the earlier tasks whose "
                              "performer may not do this one", property=PROPERTY, element=element),
                element, prop.sourceline, "duties")
            continue
        process = _process_of(owner)
        nodes = {el.get("id"): el for el in process.iter(f"{{{BPMN_NS}}}*") if el.get("id")} if process is not None \
            else {}
        humans = sorted(i for i, el in nodes.items() if local(el) in HUMAN_TASKS)
        for ref in ids:
            target = nodes.get(ref)
            if target is None:
                close = difflib.get_close_matches(ref, humans, n=1, cutoff=0.6)
                where = process.get("id") if process is not None else "?"
                message = finding("{property} of '{element}' names '{ref}', which is not a task of process "
                                  "'{process}'; did you mean '{suggestion}'?", property=PROPERTY, element=element,
                                  ref=ref, process=where, suggestion=close[0]) if close else \
                    finding("{property} of '{element}' names '{ref}', which is not a task of process '{process}'",
                            property=PROPERTY, element=element, ref=ref, process=where)
                add(path, message, element, prop.sourceline, "duties")
            elif local(target) not in HUMAN_TASKS:
                add(path, finding("{property} of '{element}' names '{ref}' ({kind}), which no person completes; "
                                  "name a user task", property=PROPERTY, element=element, ref=ref,
                                  kind=local(target)),
                    element, prop.sourceline, "duties")


def _owner(prop: Any) -> Any:
    """Return the BPMN element whose extension elements hold ``prop``."""
    el = prop.getparent()
    while el is not None and not (is_bpmn(el) and local(el) != "extensionElements"):
        el = el.getparent()
    return el


def _process_of(el: Any) -> Any:
    while el is not None and not is_bpmn(el, "process"):
        el = el.getparent()
    return el
