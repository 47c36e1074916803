"""Property: what the state log writes per save is exactly what a full dump says changed.

The store encodes only tasks whose key (state, links, fingerprint of their data and their
parent's) moved since the last save. Random processes of scripts that change data in place
(lists and dicts several names and tasks share, values turning from ``1`` into ``True`` or
``1.0``), parallel branches, form data merged into waiting tasks and reloads from the
stored document (after which tasks share lists) must never make a save miss a change:
after every save the delta holds exactly the tasks whose JSON differs from the previous
full dump, and the log folded together is the full dump, compared as exact JSON text.
"""

from __future__ import annotations

import json
import os
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine import spiff, state_log
from engine.bundle import Bundle
from engine.lint import lint_bundle
from tests.bpmn_builder import HEAD

#: STATE_DELTA_EXAMPLES=1000 explores further (random, not the suite's fixed examples)
EXAMPLES = os.environ.get("STATE_DELTA_EXAMPLES")
PROPERTY = settings(max_examples=int(EXAMPLES or 60), deadline=None, database=None, derandomize=EXAMPLES is None,
                    suppress_health_check=[HealthCheck.too_slow])
START_DATA = {"items": [0], "box": {"n": 0, "inner": [1]}, "flag": 1}
SCRIPTS = (
    "items.append(len(items))",
    "box['n'] = box.get('n', 0) + 1",
    "box['inner'].append(flag)",
    "flag = True",
    "flag = 1",
    "flag = 1.0",
    "shared = items",
    "shared = box['inner']",
    "items = items + [1]",
    "box.pop('n', None)",
    "items[0] = flag",
    "box['inner'][:1] = [flag]",
    "box['inner'].insert(0, not box['inner'])",
)
FORMS = ({}, {"flag": True}, {"flag": 1}, {"note": "é 中文"}, {"box": {"n": 7, "inner": []}},
         {"box": {"inner": [2, [3]]}})


def _set_first(data: dict[str, Any], value: Any) -> None:
    data["box"]["inner"][:1] = [value]


#: what completing a waiting task may do to its data: merge a form deeply (SpiffWorkflow's DeepMerge
#: extends nested lists in place) or change a nested value in place, 1 into True or 1.0
ACTIONS = tuple((lambda data, form=form: DeepMerge.merge(data, json.loads(json.dumps(form)))) for form in FORMS) + (
    lambda data: _set_first(data, True), lambda data: _set_first(data, 1.0), lambda data: _set_first(data, 1))

#: a step of a generated process: ("script", i), ("user", _), ("users", _) (two in parallel) or
#: ("parallel", (i, j)) (two scripts in parallel)
step = st.one_of(st.tuples(st.just("script"), st.integers(0, len(SCRIPTS) - 1)),
                 st.tuples(st.just("user"), st.just(0)), st.tuples(st.just("users"), st.just(0)),
                 st.tuples(st.just("parallel"), st.tuples(st.integers(0, len(SCRIPTS) - 1),
                                                          st.integers(0, len(SCRIPTS) - 1))))


def process(steps: list[tuple[str, Any]], scripts: tuple[str, ...] = SCRIPTS) -> Bundle:
    """Render the steps in sequence between a start and an end event (user tasks in one lane)."""
    nodes: list[str] = ['<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>']
    flows: list[str] = []
    users: list[str] = []
    source, n = "start", 0

    def flow(src: str, dst: str) -> str:
        nonlocal n
        n += 1
        flows.append(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{src}" targetRef="{dst}" />')
        return f"f{n}"

    def script(eid: str, code: str) -> str:
        return f'<bpmn:scriptTask id="{eid}"><bpmn:script>{escape(code)}</bpmn:script></bpmn:scriptTask>'

    for i, (kind, arg) in enumerate(steps):
        if kind == "script":
            nodes.append(script(f"s{i}", scripts[arg % len(scripts)]))
            flow(source, f"s{i}")
            source = f"s{i}"
        elif kind == "user":
            nodes.append(f'<bpmn:userTask id="u{i}" name="U{i}" />')
            users.append(f"u{i}")
            flow(source, f"u{i}")
            source = f"u{i}"
        else:
            nodes += [f'<bpmn:parallelGateway id="fork{i}" />', f'<bpmn:parallelGateway id="join{i}" />']
            if kind == "users":
                nodes += [f'<bpmn:userTask id="a{i}" name="A{i}" />', f'<bpmn:userTask id="b{i}" name="B{i}" />']
                users += [f"a{i}", f"b{i}"]
            else:
                nodes += [script(f"a{i}", scripts[arg[0] % len(scripts)]),
                          script(f"b{i}", scripts[arg[1] % len(scripts)])]
            flow(source, f"fork{i}")
            for branch in (f"a{i}", f"b{i}"):
                flow(f"fork{i}", branch)
                flow(branch, f"join{i}")
            source = f"join{i}"
    nodes.append('<bpmn:endEvent id="end" />')
    flow(source, "end")
    lane = "".join(f"<bpmn:flowNodeRef>{u}</bpmn:flowNodeRef>" for u in users)
    xml = (HEAD + '<bpmn:process id="random" isExecutable="true">'
           f'<bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent">{lane}</bpmn:lane></bpmn:laneSet>'
           + "".join(nodes) + "".join(flows) + "</bpmn:process></bpmn:definitions>")
    # incoming/outgoing are implied by the sequence flows for SpiffWorkflow's parser
    return Bundle("random", {"random.bpmn": xml.encode()})


class NoServices:
    """The generated processes call no handlers."""

    def invoke(self, task, operator, arguments):  # type: ignore[no-untyped-def]
        raise AssertionError("no service tasks here")


def exact(value: Any) -> str:
    """Return JSON text in which 1, 1.0 and True stay apart and key order does not matter."""
    return json.dumps(value, sort_keys=True)


def task_texts(document: dict[str, Any]) -> dict[str, str]:
    """Return every task's exact JSON in a full state document (subprocesses' tasks too)."""
    texts = {tid: exact(t) for tid, t in document["tasks"].items()}
    for sub in document["subprocesses"].values():
        texts.update({tid: exact(t) for tid, t in sub["tasks"].items()})
    return texts


def delta_tasks(delta: str | None) -> tuple[set[str], set[str]]:
    """Return the tasks a delta writes and the ones it drops."""
    parsed = json.loads(delta) if delta else {}
    written = {tid for tasks in parsed.get("tasks", {}).values() for tid in tasks}
    gone = {tid for tids in parsed.get("gone", {}).values() for tid in tids}
    return written, gone


#: after a reload, two waiting tasks share a list with the finished root; each changes it in place in
#: its own trigger, 1 to True to 1.0 (one value to ``==``, not to JSON)
TYPE_ONLY = [("users", 0), ("users", 0)]


@PROPERTY
@example(steps=TYPE_ONLY, reloads=[True, False, True, False] * 3, actions=[len(FORMS), len(FORMS) + 1] * 6)
@given(steps=st.lists(step, min_size=1, max_size=9),
       reloads=st.lists(st.booleans(), min_size=12, max_size=12),
       actions=st.lists(st.integers(0, len(ACTIONS) - 1), min_size=12, max_size=12))
def test_each_save_writes_exactly_the_tasks_a_full_dump_says_changed(steps, reloads, actions):
    # Given a random process of in-place data changes, run in memory and saved after every step
    check_every_save(process(steps), START_DATA, reloads, [ACTIONS[a] for a in actions])


#: scripts over flat data (strings, numbers, booleans): finished tasks keep their digest while their data
#: stays the same object; some scripts put a list or dict in, some take it out again
FLAT_SCRIPTS = ("n = n + 1", "flag = True", "flag = 1", "flag = 1.0", "label = label + 'é'", "nested = [n]",
                "nested = None", "label = str(flag)", "box = {'inner': [n]}", "box = n")
FLAT_DATA = {"n": 0, "flag": 1, "label": "a"}
FLAT_ACTIONS = (lambda data: data.update(flag=True), lambda data: data.update(flag=1.0),
                lambda data: data.__setitem__("n", data.get("n", 0) + 1), lambda data: data.pop("label", None),
                lambda data: data.__setitem__("nested", {"k": [1]}),
                lambda data: DeepMerge.merge(data, {"label": "中文", "flag": 1}))


@PROPERTY
@given(steps=st.lists(step, min_size=1, max_size=9),
       reloads=st.lists(st.booleans(), min_size=12, max_size=12),
       actions=st.lists(st.integers(0, len(FLAT_ACTIONS) - 1), min_size=12, max_size=12))
def test_finished_tasks_with_flat_data_are_written_exactly_when_they_change(steps, reloads, actions):
    # Given a random process over flat data, changed in place by scripts and forms, saved after every step
    check_every_save(process(steps, FLAT_SCRIPTS), FLAT_DATA, reloads, [FLAT_ACTIONS[a] for a in actions])


def check_every_save(bundle: Bundle, start_data: dict[str, Any], reloads: list[bool], actions: list[Any]) -> None:
    """Run ``bundle`` saving after every step; each save must write exactly what a full dump says changed."""
    result = lint_bundle(bundle)
    assert not result.errors, result.errors
    specs = result.specs
    workflow = spiff.new_workflow(specs["random"], {k: v for k, v in specs.items() if k != "random"})
    workflow.task_tree.data.update(json.loads(json.dumps(start_data)))
    workflow.script_engine = spiff.AftersalesScriptEngine(NoServices())  # type: ignore[arg-type]
    saved = state_log.saved_of(workflow)
    before: dict[str, str] = {}
    just_read = False
    for turn in range(12):
        workflow.do_engine_steps()
        # When the store records what changed
        delta = state_log.record(workflow, saved)
        document = json.loads(spiff.dump_workflow(workflow))
        now = task_texts(document)
        written, gone = delta_tasks(delta)
        changed = {tid for tid, text in now.items() if before.get(tid) != text}
        # Then the delta holds exactly the changed tasks (after a reload it may rewrite more, never less)
        assert changed <= written
        if not just_read:
            assert written == changed
        assert gone == set(before) - set(now)
        # And the log's whole document is the full dump, exactly
        assert exact(json.loads(state_log.full_text(saved))) == exact(document)
        before, just_read = now, False
        if workflow.is_completed():
            return
        if reloads[turn]:  # a cold cache: read the stored document back (tasks then share lists)
            stored = json.loads(state_log.full_text(saved))
            saved = state_log.remember(stored)
            workflow = spiff.workflow_from_document(stored, specs)
            state_log.attach(workflow, saved)
            workflow.script_engine = spiff.AftersalesScriptEngine(NoServices())  # type: ignore[arg-type]
            just_read = True
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if ready:
            actions[turn](ready[0].data)  # in place: restored tasks share nested lists
            ready[0].run()
