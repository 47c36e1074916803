"""Reading a median or p90 the dashboard got from the daily histograms: the exact value within its error."""

from __future__ import annotations

from typing import Any

from analytics.histogram import ERROR


def near(figures: dict[str, Any], key: str, exact: float | None) -> bool:
    """Tell whether ``figures[key]`` (from a histogram) is within its own error of the ``exact`` value, and that
    error is the histogram's bound."""
    value, error = figures.get(key), figures.get(f"{key}_error")
    if exact is None or value is None:
        return value is None and exact is None
    return error is not None and error <= ERROR + 1e-12 and abs(value - exact) <= value * error * (1 + 1e-9)
