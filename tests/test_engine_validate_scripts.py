"""Every script and expression is compiled at validate under the sandbox's rules, and every
timer value is checked for its kind: a refusal names the file, the element and the line of
the file, not an incident in a running instance."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.handlers_for_tests  # noqa: F401  (registers test.echo)
from engine.bundle import Bundle, read_bundle
from engine.lint import lint_bundle
from tests.bpmn_builder import HEAD, script_then_gateway

SCRIPTS = Path(__file__).parent / "fixtures" / "foreign" / "scripts"


def _line(path: Path, needle: str, after: str | None = None) -> int:
    lines = path.read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if after in line) if after else 0
    return next(n for n, line in enumerate(lines[start:], start + 1) if needle in line)


EVERY_SITE = [
    # (file, element, needle on the line, text)
    ("every_site.bpmn", "compute", "from os import getpid", "script refused by the sandbox: import of 'os'"),
    ("every_site.bpmn", "review", "<spiffworkflow:preScript>", "preScript refused by the sandbox: open()"),
    ("every_site.bpmn", "review", "if ok", "postScript refused by the sandbox: SyntaxError: expected ':'"),
    ("every_site.bpmn", "notify", 'value="ticket received"', "a text value needs quotes inside the attribute"),
    ("every_site.bpmn", "f_yes", "<bpmn:conditionExpression>approved", '"__import__" is an invalid variable name'),
    ("every_site.bpmn", "inspect", "<bpmn:loopCardinality>", "loop cardinality refused by the sandbox: SyntaxError"),
    ("every_site.bpmn", "inspect", "<bpmn:completionCondition>", "Eval calls are not allowed"),
    ("every_site.bpmn", "parts_in", "<bpmn:condition>", "'stock = 3' is a statement, not an expression (compare "
                                                       "with ==)"),
    ("every_site.bpmn", "send_update", "<spiffworkflow:expression>", "correlation expression refused by the "
                                                                     "sandbox: type()"),
    ("every_site.bpmn", "ticket_number", "<bpmn:formalExpression>", "correlation retrieval expression refused"),
    ("every_site.bpmn", "msg_update", "<spiffworkflow:messagePayload>", "globals() is not available"),
    ("every_site.bpmn", "msg_update", "<spiffworkflow:messagePayload>", '"__dict__" is an invalid attribute'),
    ("every_site.bpmn", "sig_done", "<spiffworkflow:payloadExpression>", "payload expression refused by the "
                                                                         "sandbox: vars()"),
    ("bad_decision.dmn", "expr_amount", "amount.__class__", "input expression refused by the sandbox"),
    ("bad_decision.dmn", "entry_big", 'open("x")', "input entry refused by the sandbox: open()"),
    ("bad_decision.dmn", "out_rest", '"agent" +', "output entry refused by the sandbox: SyntaxError"),
]


@pytest.fixture(scope="module")
def every_site():
    return lint_bundle(read_bundle([SCRIPTS])).problems


@pytest.mark.parametrize(("file", "element", "needle", "text"), EVERY_SITE)
def test_python_everywhere_in_a_bundle_is_compiled_under_the_sandbox_rules(every_site, file, element, needle,
                                                                              text):
    line = _line(SCRIPTS / file, needle)
    found = [p for p in every_site if (p.file, p.element_id, p.line) == (file, element, line)]
    assert any(p.rule == "scripts" and p.severity == "error" and text in p.message for p in found), found


def test_nothing_else_is_found_in_the_bundle(every_site):
    assert {(p.file, p.element_id) for p in every_site} == {(f, e) for f, e, *_ in EVERY_SITE}


@pytest.mark.parametrize(
    ("script", "script_line", "text"),
    [
        ("x = 1\ny = (\n  2 +\n  _secret)", 4, '"_secret" is an invalid variable name'),
        ("a = 1\nb = 2\nc = d.__class__", 3, '"__class__" is an invalid attribute name'),
        ("total = 0\nfor i in range(3):\ntotal += i", 3, "IndentationError: expected an indented block"),
        ("  x = 1\n  y = 2", 1, "scripts start at the left margin of the XML text"),
        ("x = 1\nprint(x)", 2, "print() is not available"),
        ("def open(path):\n    return path\nx = open('a')\nx = type(x)", 4, "type() is not available"),
    ],
)
def test_the_line_is_the_line_of_the_file(script, script_line, text):
    bundle = script_then_gateway(script)
    first = _line_of(bundle, "<bpmn:script>")
    [problem] = [p for p in lint_bundle(bundle).problems if p.severity == "error"]
    assert (problem.rule, problem.element_id, problem.line) == ("scripts", "run_script", first + script_line - 1)
    assert text in problem.message


def test_a_script_the_sandbox_runs_is_not_reported():
    script = ("def fee(hours):\n    return hours * 80\nlines = [fee(h) for h in (1, 2)]\ntotal = sum(lines)\n"
              "due = (date.today() + timedelta(days=3)).isoformat()\nstamp = datetime.now().strftime('%H:%M')")
    assert not lint_bundle(script_then_gateway(script, "total > 100 and not isinstance(due, int)")).errors


def test_an_empty_script_task_and_an_empty_condition_are_named():
    bundle = script_then_gateway("x = 1", "x")
    xml = bundle.files["scripted.bpmn"].decode().replace("<bpmn:script>x = 1</bpmn:script>", "").replace(
        "<bpmn:conditionExpression>x<", "<bpmn:conditionExpression> <")
    problems = lint_bundle(Bundle("scripted", {"scripted.bpmn": xml.encode()})).errors
    assert {(p.rule, p.element_id) for p in problems} == {("scripts", "run_script"), ("scripts", "f_yes")}
    assert all("is empty" in p.message for p in problems)


def _line_of(bundle: Bundle, needle: str) -> int:
    text = next(iter(bundle.files.values())).decode()
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def timer_bundle(kind: str, expression: str, where: str = "boundary") -> Bundle:
    """A user task with a timer (boundary, or intermediate catch after it) of ``kind`` holding ``expression``."""
    timer = (f'<bpmn:timerEventDefinition id="td">\n      <bpmn:{kind}>{expression}</bpmn:{kind}>\n'
             f'    </bpmn:timerEventDefinition>')
    interrupting = str(kind != "timeCycle").lower()
    if where == "boundary":
        events = f'''<bpmn:boundaryEvent id="timer" attachedToRef="work" cancelActivity="{interrupting}">
    <bpmn:outgoing>f3</bpmn:outgoing>
    {timer}
  </bpmn:boundaryEvent>
  <bpmn:endEvent id="end_timer"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  <bpmn:sequenceFlow id="f3" sourceRef="timer" targetRef="end_timer" />'''
    else:
        events = f'''<bpmn:intermediateCatchEvent id="timer">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    {timer}
  </bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="timer" />
  <bpmn:sequenceFlow id="f3" sourceRef="timer" targetRef="end" />'''
    xml = HEAD + f'''<bpmn:process id="timed" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  {events}
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
</bpmn:process>
</bpmn:definitions>
'''
    return Bundle("timed", {"timed.bpmn": xml.encode()})


@pytest.mark.parametrize(
    ("kind", "expression"),
    [
        ("timeDuration", '"PT24H"'), ("timeDuration", '"P3D"'), ("timeDuration", '"P1M"'), ("timeDuration", '"PT0S"'),
        ("timeDuration", '"P1Y2M3DT4H5M6.5S"'), ("timeDuration", '"P2W"'), ("timeDuration", "sla_duration"),
        ("timeDuration", 'sla["response"] if urgent else "P1D"'),
        ("timeDate", '"2026-03-02T09:00:00Z"'), ("timeDate", '"2026-03-02T17:00:00+08:00"'),
        ("timeDate", "visit_at"),
        ("timeCycle", '"R3/PT1H"'), ("timeCycle", '"R/P1D"'), ("timeCycle", '"R5/2026-03-02T09:00:00Z/PT1H"'),
        ("timeCycle", '"R2/PT1H/2026-03-05T00:00:00+08:00"'), ("timeCycle", "reminder_cycle"),
    ],
)
@pytest.mark.parametrize("where", ["boundary", "catch"])
def test_valid_timers_validate(kind, expression, where):
    problems = lint_bundle(timer_bundle(kind, expression, where)).problems
    assert not [p for p in problems if p.rule in ("timers", "scripts", "dialects")], problems


@pytest.mark.parametrize(
    ("kind", "expression", "rule", "text"),
    [
        ("timeDuration", "PT24H", "timers", 'timer duration (timeDuration) PT24H must be quoted ("PT24H")'),
        ("timeCycle", "R3/PT1H", "timers", 'timer repeating interval (timeCycle) R3/PT1H must be quoted ("R3/PT1H")'),
        ("timeDuration", '"P1X"', "timers", "'P1X' is not an ISO 8601 duration"),
        ("timeDuration", '"P"', "timers", "'P' is not an ISO 8601 duration"),
        ("timeDuration", '"PT"', "timers", "is not an ISO 8601 duration"),
        ("timeDuration", '"P1W2D"', "timers", "weeks cannot be combined"),
        ("timeDuration", '"2026-03-02T09:00:00Z"', "timers", "is not an ISO 8601 duration"),
        ("timeDate", '"2026-03-02T09:00:00"', "timers", "has no zone: add one"),
        ("timeDate", '"2026-03-02"', "timers", "has no zone"),
        ("timeDate", '"PT1H"', "timers", "is a duration, not a date-time; use a duration (timeDuration)"),
        ("timeDate", '"next monday"', "timers", "is not an ISO 8601 date-time"),
        ("timeCycle", '"PT1H"', "timers", "is not an ISO 8601 repeating interval"),
        ("timeCycle", '"R3/PT0S"', "timers", "repeats every zero seconds"),
        ("timeCycle", '"R3/2026-03-02T09:00:00Z"', "timers", "give one duration"),
        ("timeCycle", '"R3/PT1H/PT2H"', "timers", "give one duration"),
        ("timeCycle", '"R3/P1X"', "timers", "'P1X' is not an ISO 8601 duration"),
        ("timeCycle", '"R3/2026-03-02T09:00:00/PT1H"', "timers", "has no zone"),
        ("timeDuration", '"PT1H', "timers", "is not a Python expression the sandbox runs: SyntaxError"),
        ("timeDuration", 'open("due").read()', "timers", "open() is not available"),
        ("timeDuration", "${slaDuration}", "dialects", "JUEL expression"),
        ("timeDuration", "=slaDuration", "dialects", "FEEL expression"),
        ("timeDuration", "", "timers", 'timer duration (timeDuration) is empty: write a quoted value such as "PT24H"'),
    ],
)
def test_invalid_timers_are_refused_naming_the_event_and_line(kind, expression, rule, text):
    bundle = timer_bundle(kind, expression)
    problems = [p for p in lint_bundle(bundle).problems if p.severity == "error"]
    assert problems
    assert {(p.rule, p.file, p.element_id, p.line) for p in problems} == \
        {(rule, "timed.bpmn", "timer", _line_of(bundle, f"<bpmn:{kind}>"))}
    assert any(text in p.message for p in problems), problems
