"""Prometheus durations: the one parser the spec, rules, autoscalers and Azure rule groups use."""

from __future__ import annotations

import pytest

from components.spec.durations import DurationError, duration_seconds, format_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("5m", 300), ("2h", 7200), ("1500ms", 1.5), ("1h30m", 5400), ("2d", 172800), ("0s", 0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("bad", ["5 minutes", "5", "m5", "", "1h 30m", "-5m"])
def test_a_bad_duration_is_refused(bad: str) -> None:
    with pytest.raises(DurationError, match="not a Prometheus duration"):
        duration_seconds(bad)


@pytest.mark.parametrize(("seconds", "text"), [(600, "10m"), (7200, "2h"), (150, "150s"), (86400, "1d"), (0, "0s")])
def test_whole_seconds_are_written_in_the_largest_exact_unit(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
    assert duration_seconds(text) == seconds
