"""Diagnosis rules: ranked candidates with confidence and reasons."""

from __future__ import annotations

import pytest

from engine.errors import HandlerError


def diagnose(call, model="WM-F80", symptoms=("not_draining",), description=""):
    return call("diagnosis.run_rules", model=model, symptoms=list(symptoms), description=description)


def test_a_blocked_drain_is_the_top_cause_and_remotely_fixable(call):
    result = diagnose(call, description="The water stays in the drum after washing, E21 on the display")
    top = result["top"]
    assert top["rule"] == "WM-01" and top["cause"] == "Drain filter or drain hose blocked"
    assert top["confidence"] == 0.85 and result["confidence"] == 0.85
    assert (result["remote_fixable"], result["needs_onsite"], result["parts"]) == (True, False, [])
    assert any("not_draining" in reason for reason in top["reasons"])
    assert any("'E21'" in reason for reason in top["reasons"])
    assert [c["rule"] for c in result["candidates"]][:2] == ["WM-01", "WM-02"]


def test_a_humming_pump_needs_a_visit_and_a_part(call):
    result = diagnose(call, symptoms=["not_draining", "error_code"],
                      description="pump is humming but no water comes out, E21")
    assert result["top"]["rule"] == "WM-02"
    assert (result["needs_onsite"], result["parts"]) == (True, ["WM-PUMP-01"])


def test_chinese_descriptions_match_chinese_keywords(call):
    result = diagnose(call, model="AC-S35", symptoms=["not_cooling"], description="空调不制冷，外机不转，有嗡嗡声")
    assert result["top"]["rule"] == "AC-03"
    assert result["product_line"] == "air_conditioner"


def test_keywords_match_whole_words_only(call):
    result = diagnose(call, symptoms=[], description="It does nothing decent")  # 'DE' is a door error code
    assert all(c["rule"] != "WM-09" for c in result["candidates"])


def test_nothing_matching_means_no_candidate_and_an_onsite_inspection(call):
    result = diagnose(call, symptoms=[], description="")
    assert result == {"candidates": [], "top": None, "confidence": 0.0, "remote_fixable": False,
                      "needs_onsite": True, "parts": [], "product_line": "washing_machine"}


def test_an_unknown_model_uses_the_general_rules_only_and_says_so(call):
    result = diagnose(call, model="ZZ-9", symptoms=["no_power"], description="power cut? socket dead")
    assert [c["rule"] for c in result["candidates"]] == ["GEN-01"]
    assert "only general rules" in result["top"]["reasons"][-1]


def test_low_confidence_is_not_enough_for_a_remote_fix(call):
    result = diagnose(call, model="ZZ-9", symptoms=[], description="error code")
    assert result["top"]["rule"] == "GEN-02" and result["top"]["confidence"] < 0.3
    assert result["needs_onsite"] is True


@pytest.mark.parametrize("symptoms", ["not_draining", [1, 2]])
def test_symptoms_must_be_a_list_of_codes(call, symptoms):
    with pytest.raises(HandlerError, match="symptoms must be a list of symptom codes"):
        call("diagnosis.run_rules", model="WM-F80", symptoms=symptoms, description="")
