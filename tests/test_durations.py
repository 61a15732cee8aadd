"""Durations for people: two adjacent units at most, truncated, at every unit's boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cryptoforecast.durations import human_duration


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0 s"),
        (timedelta(milliseconds=999), "0 s"),
        (timedelta(seconds=1), "1 s"),
        (timedelta(seconds=59.9), "59 s"),
        (timedelta(seconds=60), "1 min"),
        (timedelta(seconds=90), "1 min 30 s"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(minutes=59, seconds=59), "59 min 59 s"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=1, minutes=5), "1 h 5 min"),
        (timedelta(hours=23, minutes=59), "23 h 59 min"),
        (timedelta(hours=24), "1 day"),
        (timedelta(hours=25), "1 day 1 h"),
        (timedelta(days=3, hours=4), "3 days 4 h"),
        (timedelta(days=14), "14 days"),
        (timedelta(days=30), "30 days"),
        (timedelta(days=31), "1 month"),
        (timedelta(days=61), "2 months"),
        (timedelta(days=365), "11 months 30 days"),
        (timedelta(days=366), "1 year"),
        (timedelta(hours=10361), "1 year 2 months"),  # the CLI's "10361.0 h ago"
        (timedelta(days=432), "1 year 2 months"),  # the dashboard's "432 days ago"
        (timedelta(days=3 * 365.25 + 1), "3 years"),
        (timedelta(days=800), "2 years 2 months"),
        (timedelta(minutes=-5), "-5 min"),
    ],
)
def test_human_duration(delta: timedelta, text: str) -> None:
    assert human_duration(delta) == text


def test_a_number_is_refused_with_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"got float 3600.0; pass e.g. timedelta\(hours=h\)"):
        human_duration(3600.0)  # type: ignore[arg-type]
