"""Surveys: signed expiring links, and CSAT/NPS answers checked before they are stored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import ConfigError, HandlerError, InvalidInput
from handlers.survey import Invitation, Response, responses_for, verify_survey_token
from tests.handlers.samples import CUSTOMER


def invite(call, task="invite", ticket="AS-20260302-00001"):
    return call("survey.invite", task=task, ticket_number=ticket, customer=CUSTOMER)


def test_an_invitation_is_a_signed_link_valid_for_two_weeks(call, clock, count):
    result = invite(call)
    assert result["survey_url"].startswith("http://127.0.0.1:5000/s/")
    assert result["expires_at"] == (clock.now() + timedelta(days=14)).isoformat()
    token = result["survey_url"].rpartition("/s/")[2].partition("?")[0]
    assert verify_survey_token(token, clock.now() + timedelta(days=13)) == "AS-20260302-00001"
    assert invite(call) == result and count(Invitation) == 1


def test_an_expired_link_is_refused(call, clock):
    token = invite(call)["survey_url"].rpartition("/s/")[2].partition("?")[0]
    with pytest.raises(InvalidInput, match="survey link has expired"):
        verify_survey_token(token, clock.now() + timedelta(days=14, seconds=1))


def test_a_forged_or_foreign_link_is_refused(call, clock, monkeypatch):
    token = invite(call)["survey_url"].rpartition("/s/")[2].partition("?")[0]
    with pytest.raises(InvalidInput, match="survey link is not valid"):
        verify_survey_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), clock.now())
    monkeypatch.setenv("AFTERSALES_SECRET_KEY", "another-installation")
    with pytest.raises(InvalidInput, match="survey link is not valid"):
        verify_survey_token(token, clock.now())


def test_the_link_carries_the_public_base_url(call, monkeypatch):
    monkeypatch.setenv("AFTERSALES_BASE_URL", "https://service.example.cn/")
    assert invite(call)["survey_url"].startswith("https://service.example.cn/s/")


def test_production_needs_a_secret_key(call, monkeypatch):
    monkeypatch.setenv("AFTERSALES_ENV", "production")
    monkeypatch.delenv("AFTERSALES_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="AFTERSALES_SECRET_KEY must be set"):
        invite(call)


def test_answers_are_recorded_once_per_task(call, database):
    answer = {"ticket_number": "AS-20260302-00001", "csat": 5, "nps": 9, "comment": "快速又专业", "via": "sms"}
    assert call("survey.record", task="r", **answer) == {"recorded": True}
    assert call("survey.record", task="r", **answer) == {"recorded": True}
    with database.transaction(write=False) as session:
        [response] = responses_for(session, "AS-20260302-00001")
    assert (response.csat, response.nps, response.comment, response.via) == (5, 9, "快速又专业", "sms")


@pytest.mark.parametrize(("changes", "field"), [
    ({"csat": 0}, "csat"), ({"csat": 6}, "csat"), ({"csat": "5"}, "csat"), ({"csat": True}, "csat"),
    ({"nps": -1}, "nps"), ({"nps": 11}, "nps"), ({"nps": 7.5}, "nps"),
    ({"via": "pigeon"}, "via"), ({"comment": 42}, "comment"),
])
def test_out_of_range_answers_name_the_field_and_nothing_is_stored(call, count, changes, field):
    answer = {"ticket_number": "AS-1", "csat": 4, "nps": 8, "comment": "", "via": "web", **changes}
    with pytest.raises(HandlerError, match=f"^{field} must") as info:
        call("survey.record", **answer)
    assert info.value.details["field"] == field
    assert count(Response) == 0


def test_edge_scores_are_accepted(call, count):
    call("survey.record", task="low", ticket_number="AS-1", csat=1, nps=0, comment=None, via="phone")
    call("survey.record", task="high", ticket_number="AS-1", csat=5, nps=10, comment="", via="wechat")
    assert count(Response) == 2
