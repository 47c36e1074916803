"""An instance's state as a log: a full document, then deltas of what each trigger changed.

A workflow's state document (:func:`engine.spiff.dump_workflow`) is made of pieces: the
top workflow's *shell* (its data, correlations, pending events … without tasks), a shell
per subprocess, and every task. A trigger changes a handful of tasks out of hundreds, so
the store writes only those: row ``n`` of an instance's ``instance_state`` rows is either
a ``full`` document or a ``delta`` holding the shells and tasks that changed since row
``n-1`` and the tasks and subprocesses that went away. Reading folds the deltas onto the
full document before them. Once the deltas since the last full document add up to more
than it (and than :data:`MIN_LOG_CHARS`, so that small instances are not rewritten every
other trigger) or number :data:`MAX_DELTAS`, the next save writes a full document again
and drops the rows before it: a save costs about twice what changed however long the
instance's history, and a load reads at most about twice the document.

:class:`Saved` is the store's memory of what it wrote, kept on the workflow object while
it is cached: each shell's JSON text, and each task's with the :func:`key_of` it was encoded
at — its state, links and a fingerprint of its data and of its parent's. A save encodes
only the tasks whose key moved (a digest of the data as exact as its JSON, so data changed
in place through a list another task shares is seen too) and writes those whose text differs.
``AFTERSALES_VERIFY_STATE=1`` checks every save against a full dump.

Taking that digest of every task would make a save cost as much as the whole history, so a
finished task whose data holds no list or dict (only strings, numbers, booleans, None) keeps
the digest it was last taken with while it stays the same finished task holding the same
data object: nothing writes into a finished task's own data dict (SpiffWorkflow and the engine
write into running tasks' data, or give a task a new dict), and with nothing nested there is
nothing another task could change in place. Data with a list or dict in it is digested every
time, as before.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import pickle
from dataclasses import dataclass, field
from operator import attrgetter
from types import ModuleType
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .spiff import _STATE, SERIALIZER_VERSION, StateEncoder

FULL, DELTA = "full", "delta"
MAX_DELTAS = 100
MIN_LOG_CHARS = 32_000
TOP = ""  # the scope of the top workflow's tasks; a subprocess's scope is its id
VERSION_KEY = "serializer_version"
_ATTR = "_aftersales_saved"

Key = tuple[Any, ...]
Entry = tuple[str, "Key | None", str, str]


_REGISTRY = _STATE.registry  # the state serializer's converters of non-JSON values (dates, decimals …)
_unknown = itertools.count()


def _exact(value: Any) -> list[Any]:
    """Stand for a value JSON does not know the way the state serializer writes it; a value it
    does not know never matches again (its task is encoded every time)."""
    typename = _REGISTRY.typenames.get(value.__class__)
    if typename in _REGISTRY.convert_to_dict:
        return [typename, _REGISTRY.convert_to_dict[typename](value)]
    if callable(value) or isinstance(value, ModuleType):
        return ["dropped"]  # the serializer leaves functions and modules out of task data
    return [type(value).__qualname__, next(_unknown)]


_FINGERPRINT = json.JSONEncoder(default=_exact, separators=(",", ":"))


def fingerprint(value: Any) -> bytes:
    """Return a digest of JSON-able data as exact as its JSON: ``1``, ``1.0`` and ``True`` differ,
    and so does the order of keys, so equal fingerprints mean equal JSON text."""
    return hashlib.blake2b(_FINGERPRINT.encode(value).encode(), digest_size=16).digest()


def data_fingerprint(data: dict[str, Any]) -> bytes:
    """Return a digest of a task's data, at least as exact as its JSON and quicker to take: the
    pickle of the data (types, key order and all), or where it cannot be pickled its JSON's."""
    try:
        raw = pickle.dumps(data, protocol=5)
    except Exception:  # noqa: BLE001 — a value pickle refuses (a function, a module): go by its JSON
        return fingerprint(data)
    return hashlib.blake2b(raw, digest_size=16).digest()


def key_of(task: Task, own: bytes, parent: bytes | None) -> Key:
    """Return everything a task's JSON is made of: its own fields and internal data, its data's
    fingerprint ``own`` and its parent's data's ``parent`` (SpiffWorkflow writes the data as a
    delta on the parent's). A task whose key did not change since it was encoded encodes to the
    same text."""
    return (task._state, task.last_state_change, task._parent, tuple(task._children), task.triggered,
            task.task_spec.name, data_fingerprint(task.internal_data) if task.internal_data else None, own,
            parent)


_OWN = 7  # the data fingerprint's place in a key
_FINISHED = (TaskState.COMPLETED, TaskState.CANCELLED)
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _flat(data: dict[str, Any]) -> bool:
    """Tell whether no value of ``data`` is a container another task could share and change in place."""
    return all(type(value) in _SCALARS for value in data.values())


def _own_print(task: Task, number: int, entry: Entry | None, saved: Saved) -> bytes:
    """Return the fingerprint of ``task``'s data, or the one it was last taken with where the data
    cannot have changed since: the same finished task (state and time of its last change as they
    were) still holding the same flat data dict."""
    data = task.data
    key = entry[1] if entry is not None else None
    if (key is not None and saved.settled.get(number) is data and task._state == key[0]
            and task.last_state_change == key[1]):
        return key[_OWN]  # type: ignore[no-any-return]
    own = data_fingerprint(data)
    if task._state in _FINISHED and _flat(data):
        saved.settled[number] = data
    else:
        saved.settled.pop(number, None)
    return own


#: what, besides its data object, a settled task's key is made of, read in one call
_PROBE = attrgetter("_state", "last_state_change", "triggered", "_parent", "_children", "internal_data", "task_spec")
Probe = tuple[dict[str, Any], tuple[Any, ...], Key]


def _probe(task: Task, key: Key) -> Probe | None:
    """Return what tells cheaply that a settled task's key has not moved: its data object and copies
    of the rest of :data:`_PROBE`; None for a task that is not settled or has internal data."""
    if task._state not in _FINISHED or task.internal_data:
        return None
    return task.data, (task._state, task.last_state_change, task.triggered, task._parent, list(task._children),
                       {}, task.task_spec), key


@dataclass
class Saved:
    """What the store last wrote of one workflow, and how long its log has grown."""

    #: per task (by its id's integer: a UUID hashes in Python code, an int in C) its scope, key, JSON
    #: text and id as text
    tasks: dict[int, Entry] = field(default_factory=dict)
    #: finished tasks whose flat data dict (the object itself) their key's fingerprint was taken of
    settled: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: settled tasks without internal data: their data object, the rest of their key's makings and the key
    probes: dict[int, Probe] = field(default_factory=dict)
    shells: dict[str, str] = field(default_factory=dict)
    seq: int = 0
    full_bytes: int = 0
    log_bytes: int = 0
    deltas: int = 0
    outdated: bool = False  # read in an older serializer format: the next save writes it in full

    def wants_full(self, delta_bytes: int) -> bool:
        """Tell whether the next row should be a full document rather than ``delta_bytes`` of delta."""
        return (self.seq == 0 or self.outdated or self.deltas >= MAX_DELTAS
                or self.log_bytes + delta_bytes > max(self.full_bytes, MIN_LOG_CHARS))

    def wrote(self, seq: int, kind: str, size: int) -> None:
        """Note that row ``seq`` of ``kind`` and ``size`` characters was written."""
        self.seq = seq
        if kind == FULL:
            self.full_bytes, self.log_bytes, self.deltas, self.outdated = size, 0, 0, False
        else:
            self.log_bytes += size
            self.deltas += 1


def saved_of(workflow: BpmnWorkflow) -> Saved:
    """Return the store's memory of ``workflow`` (empty for a workflow never written)."""
    saved = getattr(workflow, _ATTR, None)
    if saved is None:
        saved = Saved()
        setattr(workflow, _ATTR, saved)
    return saved


def _scopes(workflow: BpmnWorkflow) -> list[tuple[str, Any]]:
    return [(TOP, workflow), *((str(sid), sub) for sid, sub in workflow.subprocesses.items())]


def record(workflow: BpmnWorkflow, saved: Saved) -> str | None:
    """Bring ``saved`` up to date with ``workflow``; return the delta as JSON text (None: no change)."""
    scopes = _scopes(workflow)
    shells: list[str] = []
    changed: list[str] = []
    current = 0
    prints: dict[int, bytes] = {}
    entries, probes = saved.tasks, saved.probes
    with StateEncoder() as encode:
        for scope, wf in scopes:
            shell = encode.shell(wf)
            if saved.shells.get(scope) != shell:
                saved.shells[scope] = shell
                shells.append(f'"{scope}": {shell}')
            texts = []
            for tid, task in wf.tasks.items():  # parents come before their children
                number = tid.int
                probe = probes.get(number)
                if probe is not None and probe[0] is task.data and probe[1] == _PROBE(task):
                    # settled and untouched: its key stands if its parent's data fingerprint does too
                    key = probe[2]
                    parent_id = task._parent
                    if parent_id is None or (key[-1] is not None and prints.get(parent_id.int) == key[-1]):
                        prints[number] = key[_OWN]
                        continue
                entry = entries.get(number)
                # A task is encoded again only when something its JSON is made of changed; data is
                # compared by content (tasks share lists with one another, so a finished task's data
                # can change in place although nothing about the task itself did).
                own = prints[number] = _own_print(task, number, entry, saved)
                parent_id = task._parent
                parent = None
                if parent_id is not None:
                    parent = prints.get(parent_id.int)
                    if parent is None:
                        above = task.parent
                        parent = data_fingerprint(above.data) if above is not None else None
                key = key_of(task, own, parent)
                if saved.settled.get(number) is task.data and (probe := _probe(task, key)) is not None:
                    probes[number] = probe
                else:
                    probes.pop(number, None)
                if entry is not None and entry[1] == key:
                    continue
                text = encode.task(task)
                name = entry[3] if entry is not None else str(tid)
                entries[number] = (scope, key, text, name)
                if entry is None or entry[2] != text:
                    texts.append(f'"{name}": {text}')
            current += len(wf.tasks)
            if texts:
                changed.append(f'"{scope}": {{{", ".join(texts)}}}')
    live_scopes = {scope for scope, _ in scopes}
    gone_scopes = [scope for scope in saved.shells if scope not in live_scopes]
    for scope in gone_scopes:
        del saved.shells[scope]
    gone: dict[str, list[str]] = {}
    if len(saved.tasks) != current:
        live = {tid.int for _, wf in scopes for tid in wf.tasks}
        for number in [n for n in saved.tasks if n not in live]:
            scope, _, _, name = saved.tasks.pop(number)
            saved.settled.pop(number, None)
            probes.pop(number, None)
            if scope not in gone_scopes:
                gone.setdefault(scope, []).append(name)
    parts = []
    if shells:
        parts.append(f'"shells": {{{", ".join(shells)}}}')
    if changed:
        parts.append(f'"tasks": {{{", ".join(changed)}}}')
    if gone:
        parts.append(f'"gone": {json.dumps(gone)}')
    if gone_scopes:
        parts.append(f'"gone_scopes": {json.dumps(gone_scopes)}')
    return "{" + ", ".join(parts) + "}" if parts else None


def full_text(saved: Saved) -> str:
    """Return the whole state document as ``saved`` knows it (what a full row holds)."""
    members: dict[str, list[str]] = {scope: [] for scope in saved.shells}
    for scope, _, text, name in saved.tasks.values():
        members[scope].append(f'"{name}": {text}')
    subs = ", ".join(f'"{scope}": {_extend(saved.shells[scope], _tasks_member(members[scope]))}'
                     for scope in saved.shells if scope != TOP)
    return _extend(saved.shells[TOP], f'{_tasks_member(members[TOP])}, "subprocesses": {{{subs}}}')


def matches_full(workflow: BpmnWorkflow, saved: Saved) -> bool:
    """Tell whether ``saved`` holds the workflow's whole state as a full dump of it would write it
    (``AFTERSALES_VERIFY_STATE=1`` asks after every save).

    Each piece of the dump (a workflow's shell, a task) is encoded on its own and compared as text with
    the piece ``saved`` holds; equal texts are equal JSON. Only when a text differs are the two whole
    documents parsed and compared, as equal JSON may be written in another key order."""
    registry = _STATE.registry
    registry._encoder_mode = True  # as the serializer's own dump encodes
    try:
        document = _STATE.to_dict(workflow)
    finally:
        registry._encoder_mode = False
    document[_STATE.VERSION_KEY] = _STATE.VERSION
    if _pieces_match(document, saved):
        return True
    return bool(json.loads(full_text(saved)) == json.loads(json.dumps(document, cls=_STATE._encoder_cls)))


def _pieces_match(document: dict[str, Any], saved: Saved) -> bool:
    def text(value: Any) -> str:
        return json.dumps(value, cls=_STATE._encoder_cls)

    held: dict[str, dict[str, str]] = {scope: {} for scope in saved.shells}
    for scope, _, task_text, name in saved.tasks.values():
        held.setdefault(scope, {})[name] = task_text
    subprocesses = document["subprocesses"]
    if held.keys() != {TOP, *subprocesses}:
        return False
    for scope, piece in ((TOP, document), *subprocesses.items()):
        tasks, texts = piece["tasks"], held[scope]
        shell = {name: value for name, value in piece.items() if name not in ("tasks", "subprocesses")}
        if saved.shells.get(scope) != text(shell) or texts.keys() != tasks.keys():
            return False
        if any(texts[name] != text(task) for name, task in tasks.items()):
            return False
    return True


def _tasks_member(texts: list[str]) -> str:
    return f'"tasks": {{{", ".join(texts)}}}'


def _extend(obj_text: str, members: str) -> str:
    """Add members to a non-empty JSON object's text."""
    return f"{obj_text[:-1]}, {members}}}"


def fold(document: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """Apply a delta row (parsed) to a state document (parsed); return the new document."""
    subs = document["subprocesses"]
    for scope in delta.get("gone_scopes", ()):
        subs.pop(scope, None)
    for scope, shell in delta.get("shells", {}).items():
        if scope == TOP:
            document = {**shell, "tasks": document["tasks"], "subprocesses": subs}
        else:
            subs[scope] = {**shell, "tasks": subs.get(scope, {}).get("tasks", {})}
    for scope, tasks in delta.get("tasks", {}).items():
        _tasks_of(document, scope).update(tasks)
    for scope, tids in delta.get("gone", {}).items():
        target = _tasks_of(document, scope)
        for tid in tids:
            target.pop(tid, None)
    return document


def _tasks_of(document: dict[str, Any], scope: str) -> dict[str, Any]:
    return document["tasks"] if scope == TOP else document["subprocesses"][scope]["tasks"]


def document_of(rows: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Fold rows ``(seq, kind, body)`` — a full document, then deltas — into one document."""
    document: dict[str, Any] = json.loads(rows[0][2])
    for _, _, body in rows[1:]:
        document = fold(document, json.loads(body))
    return document


def remember(document: dict[str, Any]) -> Saved:
    """Return what the store holds of a document it just read (before it is restored: that consumes it)."""
    saved = Saved(outdated=document.get(VERSION_KEY) != SERIALIZER_VERSION)
    pieces = [(TOP, document), *document["subprocesses"].items()]
    for scope, piece in pieces:
        saved.shells[scope] = json.dumps({k: v for k, v in piece.items() if k not in ("tasks", "subprocesses")})
        for tid, task in piece["tasks"].items():
            saved.tasks[UUID(tid).int] = (scope, None, json.dumps(task), tid)
    return saved


def attach(workflow: BpmnWorkflow, saved: Saved) -> None:
    """Keep ``saved`` on the workflow it was read into; its first save encodes every task once
    (the texts read are kept only where that encoding gives the same)."""
    setattr(workflow, _ATTR, saved)
