"""An error that counts says its count the gettext way: English singular or plural by ngettext, Chinese in
its one form — never "1 error(s)"."""

from __future__ import annotations

import pytest
from flask import session as flask_session

from engine.errors import DeploymentInvalid, FormValidationError, Problem
from web.rendering import error_body, error_text


def form_error(count: int) -> FormValidationError:
    return FormValidationError("the form of {where} has {count} error", [], plural="the form of {where} has "
                               "{count} errors", params={"where": "Triage", "count": count})


@pytest.mark.parametrize(("count", "english", "chinese"), [
    (1, "the form of Triage has 1 error", "Triage 的表单有 1 处错误"),
    (3, "the form of Triage has 3 errors", "Triage 的表单有 3 处错误"),
])
def test_a_counted_error_takes_the_plural_form_of_its_count(app, count, english, chinese):
    error = form_error(count)
    assert error.message == english
    with app.test_request_context("/"):
        flask_session["lang"] = "en"
        assert error_text(error) == english
        flask_session["lang"] = "zh"
        assert error_text(error) == chinese


def test_a_refused_deployment_counts_its_problems(app):
    one = DeploymentInvalid([Problem("a.bpmn", "broken")])
    two = DeploymentInvalid([Problem("a.bpmn", "broken"), Problem("b.bpmn", "broken too")])
    assert one.message == "1 problem found; nothing was deployed"
    assert two.message == "2 problems found; nothing was deployed"
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        body = error_body(two)
    assert (body["code"], body["message"]) == ("deployment_invalid", "2 problems found; nothing was deployed")
    assert body["localized_message"] == "发现 2 个问题；未部署任何内容"
