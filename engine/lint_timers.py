"""Timer expressions: Python that yields an ISO 8601 date, duration or repeating interval.

A ``timeDuration`` must give a duration (``"PT24H"``), a ``timeDate`` a date-time with a
zone (``"2026-03-02T09:00:00+08:00"``: without one SpiffWorkflow reads the server's local
time), a ``timeCycle`` a repeating interval (``"R3/PT1H"``, ``"R/P1D"``,
``"R5/2026-03-02T09:00:00Z/PT1H"``). Literals are checked here; an expression naming a
variable is checked for the sandbox's rules only, its value is known at run time.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .errors import finding
from .lint_dialects import foreign_expression
from .lint_scripts import EVAL, explain
from .lint_xml import BPMN_NS, Report, executable, owner_id, text_line

KINDS = ("timeDate", "timeDuration", "timeCycle")  # SpiffWorkflow's order when several are given
_NUMBER = r"\d+(?:[.,]\d+)?"
ISO_DURATION = re.compile(rf"^P(?!$)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
                          rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$")
EXAMPLES = {"timeDuration": '"PT24H", "P3D", "P1M"', "timeDate": '"2026-03-02T09:00:00Z", "2026-03-02T17:00:00+08:00"',
            "timeCycle": '"R3/PT1H", "R/P1D", "R5/2026-03-02T09:00:00Z/PT1H"'}
#: each kind in words, its XML name in brackets (a page says the words in the reader's language)
KIND_WORDS = {"timeDate": finding("date-time (timeDate)"), "timeDuration": finding("duration (timeDuration)"),
              "timeCycle": finding("repeating interval (timeCycle)")}


class TimerValueError(ValueError):
    """Raised when a timer literal is not what its kind needs; its argument is the finding that says why."""


def check_timers(path: str, root: Any, add: Report) -> None:
    """Check every timer event definition of one BPMN file."""
    for definition in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        if not executable(definition):
            continue
        node = next((n for kind in KINDS for n in definition.iter(f"{{{BPMN_NS}}}{kind}")), None)
        if node is None:
            add(path, finding("timer has no date-time (timeDate), duration (timeDuration) or repeating interval "
                                   "(timeCycle)"), owner_id(definition),
                definition.sourceline, "timers")
            continue
        _check_expression(path, node, add)


def _check_expression(path: str, node: Any, add: Report) -> None:
    code, text = node.tag.rpartition("}")[2], (node.text or "").strip()
    kind = KIND_WORDS[code]
    element, line = owner_id(node), text_line(node)
    if not text:
        add(path, finding("timer {kind} is empty: write a quoted value such as {example}", kind=kind,
                          example=EXAMPLES[code].split(", ")[0]),
            element, line, "timers")
        return
    foreign = foreign_expression(text, f"timer {code}")
    if foreign:
        add(path, foreign, element, line, "dialects")
        return
    if _is_value(code, text):
        add(path, finding("timer {kind} {text} must be quoted (\"{text}\"): it is a Python expression", kind=kind,
                          text=text), element, line, "timers")
        return
    problems = explain(text, EVAL, f"timer {code}", timer=True)
    for offset, message in problems:
        add(path, message, element, text_line(node, offset), "timers")
    if problems:
        return
    tree = ast.parse(text, mode="eval")
    if isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str):
        try:
            check_value(code, tree.body.value)
        except TimerValueError as exc:
            add(path, finding("timer {kind} '{value}' {detail}", kind=kind, value=tree.body.value, detail=exc.args[0]),
                element, line, "timers")


def _is_value(kind: str, text: str) -> bool:
    try:
        check_value(kind, text)
    except TimerValueError:
        return False
    return True


def check_value(kind: str, value: str) -> None:
    """Raise :class:`TimerValueError` unless ``value`` is a valid ``kind`` (timeDate, timeDuration, timeCycle)."""
    text = value.strip()
    if kind == "timeDuration":
        _duration(text)
    elif kind == "timeDate":
        _date_time(text)
    else:
        _cycle(text)


def _duration(text: str) -> float:
    if not ISO_DURATION.match(text.upper()):
        raise TimerValueError(finding("is not an ISO 8601 duration (such as {examples})",
                                      examples=EXAMPLES["timeDuration"]))
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception as exc:  # SpiffWorkflow raises bare Exception
        raise TimerValueError(finding("is not an ISO 8601 duration SpiffWorkflow reads: {error} (weeks cannot be "
                                      "combined with other units)", error=str(exc))) from exc
    return sum(float(v) for v in parsed.values())


def _date_time(text: str) -> datetime:
    if text.upper().startswith("P") or ISO_DURATION.match(text.upper()):
        raise TimerValueError(finding("is a duration, not a date-time; use a duration (timeDuration), or a date-time "
                                      "such as {examples}", examples=EXAMPLES["timeDate"]))
    try:
        when = TimerEventDefinition.parse_time_or_duration(text)
    except Exception as exc:
        raise TimerValueError(finding("is not an ISO 8601 date-time (such as {examples}): {error}",
                                      examples=EXAMPLES["timeDate"], error=str(exc))) from exc
    if "W" not in text.upper() and datetime.fromisoformat(text).tzinfo is None:
        raise TimerValueError(finding("has no zone: add one (…Z or …+08:00); without it the server's local time is "
                                      "used"))
    return when


def _cycle(text: str) -> None:
    match = re.match(r"^R(\d*)/(.+)$", text.upper())
    if match is None:
        raise TimerValueError(finding("is not an ISO 8601 repeating interval (such as {examples})",
                                      examples=EXAMPLES["timeCycle"]))
    parts = match.group(2).split("/")
    durations = [p for p in parts if p.startswith("P")]
    if len(parts) > 2 or len(durations) != 1:
        raise TimerValueError(finding("is not an ISO 8601 repeating interval: give one duration, with a start or an "
                                      "end date-time at most (such as {examples})", examples=EXAMPLES["timeCycle"]))
    for part in parts:
        try:
            _duration(part) if part.startswith("P") else _date_time(part)
        except TimerValueError as exc:
            raise TimerValueError(finding("is not a valid repeating interval: '{part}' {detail}", part=part,
                                      detail=exc.args[0])) from None
    if _duration(durations[0]) <= 0:
        raise TimerValueError(finding("repeats every zero seconds: give the cycle a duration longer than zero"))
    try:
        TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception as exc:
        raise TimerValueError(finding("is not a repeating interval SpiffWorkflow reads: {error}",
                                      error=str(exc))) from exc
