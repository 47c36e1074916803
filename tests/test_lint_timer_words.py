"""A timer finding names the timer's kind in words in the reader's language, and says why in it too.

The XML names (timeDate, timeDuration, timeCycle) stay in brackets, so the owner finds the element;
the words around them (时长, 日期时间, 重复周期) and the reason a value is refused read in Chinese.
"""

from __future__ import annotations

import re

import pytest

from engine.bundle import Bundle
from engine.lint import lint_bundle
from tests.test_engine_validate_scripts import timer_bundle
from web.findings import said


def timer_findings(kind: str, expression: str, language: str) -> list[str]:
    problems = lint_bundle(timer_bundle(kind, expression)).problems
    return [said(p, language) for p in problems if p.rule == "timers"]


@pytest.mark.parametrize(("kind", "expression", "english", "chinese"), [
    ("timeDuration", '"P1X"', "timer duration (timeDuration) 'P1X' is not an ISO 8601 duration",
     "定时器时长（timeDuration）'P1X'：不是 ISO 8601 时长"),
    ("timeDate", '"PT1H"', "timer date-time (timeDate) 'PT1H' is a duration, not a date-time; use a duration",
     "定时器日期时间（timeDate）'PT1H'：是时长而不是日期时间；请改用时长（timeDuration）"),
    ("timeDate", '"2026-03-02T09:00:00"', "has no zone", "没有时区"),
    ("timeCycle", '"R3/P1X"', "timer repeating interval (timeCycle) 'R3/P1X' is not a valid repeating interval",
     "定时器重复周期（timeCycle）'R3/P1X'：不是有效的重复周期：'P1X' 不是 ISO 8601 时长"),
    ("timeCycle", '"R3/PT0S"', "repeats every zero seconds", "每零秒重复一次"),
    ("timeDuration", "PT24H", "timer duration (timeDuration) PT24H must be quoted",
     "定时器时长（timeDuration）PT24H 必须加引号"),
    ("timeCycle", "", "timer repeating interval (timeCycle) is empty", "定时器重复周期（timeCycle）为空"),
])
def test_a_refused_timer_names_its_kind_in_words_in_english_and_chinese(kind, expression, english, chinese):
    # Given a timer whose value its kind does not accept, when the owner reads the finding
    [in_english] = timer_findings(kind, expression, "en")
    [in_chinese] = timer_findings(kind, expression, "zh")
    # Then each language says the kind in its words, the XML name in brackets, and why
    assert english in in_english
    assert chinese in in_chinese
    # and no English sentence is left in the Chinese (only the XML names, the value and ISO 8601)
    assert not re.search(r"\b(is|not|timer|duration|use|has|give)\b", in_chinese), in_chinese


def test_a_timer_without_a_value_names_the_three_kinds_in_words():
    [(path, xml)] = timer_bundle("timeDuration", '"PT1H"').files.items()
    bundle = Bundle("timed", {path: re.sub(rb"<bpmn:timeDuration>.*?</bpmn:timeDuration>", b"", xml)})
    [problem] = [p for p in lint_bundle(bundle).problems if p.rule == "timers"]
    assert said(problem, "en") == ("timer has no date-time (timeDate), duration (timeDuration) or repeating "
                                   "interval (timeCycle)")
    assert said(problem, "zh") == "定时器没有日期时间（timeDate）、时长（timeDuration）或重复周期（timeCycle）"
