"""Simulated customers write in their own language: Chinese speakers have Chinese names and words."""

from __future__ import annotations

from datetime import date

from simulation.workload import Catalogue, load_parameters, new_profile

PARAMS = load_parameters()


class Rule:
    def __init__(self, line: str) -> None:
        self.code, self.product_line, self.remote_fixable, self.parts = f"{line}-a", line, False, ["P-1"]
        self.symptoms, self.cause, self.action = ["not_draining"], "Drain hose blocked", "Replace the drain pump"
        self.keywords = ["drain", "water stays", "不排水", "积水"]


def profiles(count: int) -> list:
    lines = ("washing_machine", "air_conditioner", "tv", "refrigerator", "router")
    catalogue = Catalogue({line: [f"{line[:2].upper()}-1"] for line in lines},
                          {line: [Rule(line)] for line in lines})  # type: ignore[misc]
    return [new_profile(PARAMS, catalogue, 11, n, date(2026, 3, 2)) for n in range(1, count + 1)]


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_chinese_speaking_customers_have_chinese_names_and_describe_the_fault_in_chinese():
    drawn = profiles(400)
    chinese = [p for p in drawn if p.customer["language"] == "zh"]
    english = [p for p in drawn if p.customer["language"] == "en"]
    assert chinese and english
    for profile in chinese:
        request = profile.intake()
        assert is_chinese(profile.customer["name"]) and len(profile.customer["name"]) == 2, profile.customer
        assert is_chinese(request["fault"]["description"]) and is_chinese(request["expectation"])
        if profile.category == "hardware" and profile.repeat_of is None:
            assert "不排水" in request["fault"]["description"]  # the rule's Chinese keywords, not its English ones
            assert "drain" not in request["fault"]["description"]
        assert profile.customer["email"].isascii()
    for profile in english:
        assert profile.customer["name"].isascii() and " " in profile.customer["name"]
        assert not is_chinese(profile.intake()["fault"]["description"])


def test_guo_is_written_with_the_character_guo():
    names = {p.customer["name"] for p in profiles(1500) if p.customer["language"] == "zh"}
    assert any(name.startswith("郭") for name in names)
    assert not any(name.startswith("Guo") for name in names)


def test_the_first_answer_a_simulated_agent_sends_is_in_the_customers_language():
    from simulation.workload import Answers, Draw

    answers = Answers(PARAMS)
    for profile in profiles(60):
        if profile.category == "complaint":
            continue
        answer = answers.respond_to_customer(profile, Draw(profile.number), None)["answer"]
        # the catalogue's action for a solved request ("Replace the drain pump" → 更换排水泵), or a holding reply
        assert is_chinese(answer) == (profile.customer["language"] == "zh"), (profile.customer, answer)
