"""A stale reason says how old the data are in words people read: ``1 year 2 months ago``, not
``10361.0 h ago``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cryptoforecast.serving.freshness import staleness

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)  # the daily candle closes 2025-01-02 00:00


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(hours=10361), "1 year 2 months ago"),
        (timedelta(days=3, hours=4), "3 days 4 h ago"),
    ],
)
def test_stale_reason_names_the_age_in_human_units(age: timedelta, words: str) -> None:
    closed = AS_OF + timedelta(days=1)
    fresh = staleness(AS_OF, "1d", closed + age, grace_seconds=600, source="snapshot")
    assert fresh.stale is True and fresh.reason is not None
    assert f"closed at {closed.isoformat()}, {words};" in fresh.reason
    assert " h ago" not in fresh.reason.replace(words, "")
    assert fresh.age_hours == pytest.approx((age + timedelta(days=1)).total_seconds() / 3600)
