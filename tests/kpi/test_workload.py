"""The simulated workload follows its parameters, and what staff write fits every form."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine import forms
from handlers.values import business_timezone
from simulation.workload import Answers, Catalogue, Draw, arrival_times, load_parameters, new_profile

FORMS = Path(__file__).resolve().parents[2] / "processes" / "forms"
PARAMS = load_parameters()
N = 3000


def share_of(values: list[str], weights: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Return key → (observed share, expected share)."""
    counts = Counter(values)
    total = sum(v for k, v in weights.items() if k != "about")
    return {k: (counts[k] / len(values), v / total) for k, v in weights.items() if k != "about"}


class Rule:
    def __init__(self, code: str, line: str, remote: bool, parts: list[str]) -> None:
        self.code, self.product_line, self.remote_fixable, self.parts = code, line, remote, parts
        self.symptoms, self.keywords, self.cause, self.action = ["noisy"], ["noise"], "Worn bearing", "Replace it"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    lines = ("washing_machine", "air_conditioner", "tv", "refrigerator", "router")
    return Catalogue({line: [f"{line[:2].upper()}-1", f"{line[:2].upper()}-2"] for line in lines},
                     {line: [Rule(f"{line}-a", line, True, []), Rule(f"{line}-b", line, False, ["P-1"])]  # type: ignore[misc]
                      for line in lines})


@pytest.fixture(scope="module")
def profiles(catalogue: Catalogue) -> list:
    return [new_profile(PARAMS, catalogue, 7, n, date(2026, 3, 2)) for n in range(1, N + 1)]


@pytest.mark.parametrize(("attribute", "weights"), [
    ("channel", PARAMS["channels"]),
    ("category", PARAMS["fault_categories"]),
    ("line", PARAMS["product_lines"]),
    ("urgency", PARAMS["urgency"]),
])
def test_request_mixes_follow_the_parameters(profiles: list, attribute: str, weights: dict[str, float]) -> None:
    # Then each share is within 3 points of its parameter (about 3.5 standard errors at n = 3000)
    for key, (observed, expected) in share_of([getattr(p, attribute) for p in profiles], weights).items():
        assert observed == pytest.approx(expected, abs=0.03), key


def test_customers_are_vip_at_the_parameter_share_and_hardware_faults_need_parts(profiles: list) -> None:
    vip = sum(p.customer["tier"] == "vip" for p in profiles) / N
    assert vip == pytest.approx(PARAMS["customers"]["vip_share"], abs=0.02)
    assert all(p.parts for p in profiles if p.category == "hardware")
    assert not any(p.parts for p in profiles if p.category in ("usage", "software"))


def test_the_same_seed_gives_the_same_requests(catalogue: Catalogue) -> None:
    first = [new_profile(PARAMS, catalogue, 7, n, date(2026, 3, 2)).intake() for n in range(1, 50)]
    again = [new_profile(PARAMS, catalogue, 7, n, date(2026, 3, 2)).intake() for n in range(1, 50)]
    other = [new_profile(PARAMS, catalogue, 8, n, date(2026, 3, 2)).intake() for n in range(1, 50)]
    assert first == again and first != other


def test_arrivals_are_weekday_and_office_hour_heavy() -> None:
    times = arrival_times(PARAMS, Draw(3), date(2026, 3, 2), 28, N)
    local = [t.astimezone(business_timezone()) for t in times]
    assert times == sorted(times) and all(datetime(2026, 3, 1, 16, tzinfo=UTC) <= t for t in times)
    weekday = sum(t.weekday() < 5 for t in local) / N
    weights = PARAMS["arrivals"]["weekday_weights"]
    assert weekday == pytest.approx(sum(weights[:5]) / sum(weights), abs=0.03)
    office = sum(9 <= t.hour < 18 for t in local) / N
    hours = PARAMS["arrivals"]["hour_weights"]
    assert office == pytest.approx(sum(hours[9:18]) / sum(hours), abs=0.03)


def test_durations_are_log_normal_with_the_given_median_and_p90() -> None:
    draw = Draw(11)
    values = sorted(draw.lognormal({"median": 4.75, "p90": 26}) for _ in range(20000))
    assert statistics.median(values) == pytest.approx(4.75, rel=0.05)
    assert values[int(0.9 * len(values))] == pytest.approx(26, rel=0.08)
    assert statistics.mean(values) > 2 * statistics.median(values)  # heavy tail: mean well above median


@pytest.mark.parametrize("path", sorted(FORMS.glob("*.schema.json")), ids=lambda p: p.name.split(".")[0])
def test_what_simulated_staff_write_is_valid_for_every_form(path: Path, profiles: list) -> None:
    # Given every user task's form, and requests of every category
    schema = json.loads(path.read_text(encoding="utf-8"))
    element = path.name.removesuffix(".schema.json")
    answers = Answers(PARAMS)
    for profile in [None, *profiles[:40]]:
        # Then the data the scenario (or the schema sampler) fills in passes the engine's form check
        forms.validate(schema, answers.form(element, schema, profile, datetime(2026, 3, 2, tzinfo=UTC)), element)
