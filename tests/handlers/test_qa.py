"""QA sampling: reproducible, at the given rate, stored once."""

from __future__ import annotations

import pytest

from engine.errors import HandlerError
from handlers.qa import Sample, draw_for


@pytest.mark.parametrize(("rate", "sampled"), [(1, True), (1.0, True), (0, False)])
def test_the_extreme_rates_always_or_never_sample(call, rate, sampled):
    assert call("qa.sample", ticket_number="AS-20260302-00001", rate=rate)["sampled"] is sampled


def test_the_draw_is_reproducible_and_explains_the_decision(call, count):
    first = call("qa.sample", task="qa", ticket_number="AS-20260302-00042", rate=0.1)
    assert first == call("qa.sample", task="qa", ticket_number="AS-20260302-00042", rate=0.1)
    assert first["draw"] == round(draw_for("AS-20260302-00042"), 6)
    assert first["sampled"] is (first["draw"] < 0.1)
    assert count(Sample) == 1


def test_about_the_given_share_of_tickets_is_sampled():
    draws = [draw_for(f"AS-20260302-{n:05d}") for n in range(1, 2001)]
    assert 160 <= sum(d < 0.1 for d in draws) <= 240


@pytest.mark.parametrize("rate", [1.5, -0.1, "10%", True, None])
def test_a_rate_outside_zero_to_one_is_refused(call, count, rate):
    with pytest.raises(HandlerError, match="rate must be a number from 0 to 1"):
        call("qa.sample", ticket_number="AS-1", rate=rate)
    assert count(Sample) == 0
