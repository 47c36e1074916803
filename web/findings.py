"""Say validation and lint findings in the reader's language.

A :class:`~engine.errors.Problem` keeps its English ``message`` for the CLI and the API; its
``template`` (the English text with ``{name}`` placeholders) is the catalogue key a page looks
up, filled with the finding's ``params`` as they are (element ids, file names and the text a
library wrote stay untranslated) except:

* ``OUR_TEXTS``, English advice of ours that the catalogue says too (the other engines' dialects
  and what to write instead);
* ``KIND_PARAMS``, the kind of element or expression a finding is about (``userTask``, "boundary
  event", "condition"), said in the reader's words (用户任务, 边界事件, 条件) by ``ELEMENT_KINDS``
  and the catalogue — a kind the catalogue does not know stays as the check wrote it;
* a value that is itself a finding (a form-schema finding inside a message contract's), said in turn.

A finding without a template is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from engine.errors import Finding, Problem

from .i18n import translate
from .i18n_catalogues import translations

#: params that are English texts of aftersales (engine.lint_dialects.HINTS …), said in the reader's language
OUR_TEXTS = frozenset({"hint", "dialect"})
#: params that name a kind of BPMN element or of expression (engine.lint_refused, lint_scripts, lint_dialects)
KIND_PARAMS = frozenset({"kind", "what"})
#: BPMN element kinds as the XML names them → the words the catalogue translates
ELEMENT_KINDS = {
    "task": "task", "userTask": "user task", "manualTask": "manual task", "scriptTask": "script task",
    "serviceTask": "service task", "sendTask": "send task", "receiveTask": "receive task",
    "businessRuleTask": "business rule task", "callActivity": "call activity", "subProcess": "subprocess",
    "transaction": "transaction", "adHocSubProcess": "ad-hoc subprocess", "startEvent": "start event",
    "endEvent": "end event", "intermediateCatchEvent": "intermediate catch event",
    "intermediateThrowEvent": "intermediate throw event", "boundaryEvent": "boundary event",
    "exclusiveGateway": "exclusive gateway", "inclusiveGateway": "inclusive gateway",
    "parallelGateway": "parallel gateway", "complexGateway": "complex gateway",
    "eventBasedGateway": "event-based gateway", "sequenceFlow": "sequence flow", "process": "process",
    "lane": "lane", "participant": "pool", "dataObject": "data object", "dataObjectReference": "data object",
    "textAnnotation": "text annotation",
}
#: lint_translations' "name of the userTask"
_NAME_OF = re.compile(r"name of the (?P<kind>\w+)")


def said(problem: Problem, language: str | None = None) -> str:
    """Return ``problem``'s text in ``language``, by default the reader's (outside a request: the CLI)."""
    if not problem.template:
        return problem.message
    return _say(problem.template, problem.params, language)


def _say(template: str, params: dict[str, Any], language: str | None) -> str:
    def text(english: str) -> str:
        return translations(language).gettext(english) if language else translate(english)

    if not params:
        return text(template)
    return text(template).format(**{key: _value(key, value, text, language) for key, value in params.items()})


def _value(key: str, value: Any, text: Callable[[str], str], language: str | None) -> Any:
    if isinstance(value, Finding):
        return _say(value.template, value.params, language)
    if not isinstance(value, str):
        return value
    if key in OUR_TEXTS:
        return text(value)
    if key in KIND_PARAMS:
        return element_kind(value, text)
    return value


def element_kind(value: str, text: Callable[[str], str]) -> str:
    """Return an element or expression kind (``userTask``, "boundary event") in ``text``'s language, or as it is."""
    named = _NAME_OF.fullmatch(value)
    if named:
        kind = element_kind(named["kind"], text)
        return value if kind == named["kind"] else text("name of the {kind}").format(kind=kind)
    words = ELEMENT_KINDS.get(value, value)
    translated = text(words)
    return value if translated == words else translated  # English, or a kind the catalogue does not know


#: the checks a problem comes from (``Problem.rule``, engine/lint*.py) → what a page calls them
RULES = {
    "xml": "XML", "xsd": "BPMN schema", "parse": "SpiffWorkflow parser", "ids": "element ids",
    "extensions": "extensions", "dialects": "other engines' dialects", "scripts": "scripts",
    "refused": "unsupported elements", "timers": "timers", "duties": "separation of duties",
    "references": "references", "flows": "sequence flows", "json": "JSON", "forms": "forms",
    "translations": "translations", "messages": "messages", "handlers": "service tasks",
}
#: a problem's severity as a page says it
SEVERITIES = {"error": "error", "warning": "warning"}


def shown(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Return the problems as a page shows them: their JSON form (English ``message``) with
    ``localized_message``, the reader's text, and the check (``rule_text``) and severity
    (``severity_text``) in the reader's words."""
    return [dict(p.to_dict(), localized_message=said(p), rule_text=translate(RULES.get(p.rule, p.rule)),
                 severity_text=translate(SEVERITIES.get(p.severity, p.severity))) for p in problems]
