"""The dashboard's staleness label words the age as people read it: ``1 year 2 months``, not
``432 days``; ``1 day 1 h``, not ``25 h``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cryptoforecast.serving.dashboard.overview import staleness
from cryptoforecast.serving.schemas import Forecast

AS_OF = datetime(2024, 9, 30, tzinfo=UTC)


def _forecast() -> Forecast:
    return Forecast(
        crypto_id="bitcoin",
        horizon=1,
        as_of=AS_OF,
        target_time=AS_OF + timedelta(days=1),
        last_close=100.0,
        predicted_price=101.0,
        predicted_return=0.00995,
        direction="up",
        intervals={0.8: (95.0, 107.0)},
        model_type="technical",
        source="technical_analysis_fallback",
        fallback_reason="no production model",
        generated_at=AS_OF,
    )


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(days=432), "1 year 2 months"),
        (timedelta(hours=25), "1 day 1 h"),
        (timedelta(minutes=45), "45 min"),
    ],
)
def test_label_words_the_age(age: timedelta, words: str) -> None:
    closed = AS_OF + timedelta(days=1)
    label = staleness(_forecast(), closed + age).label
    assert label.endswith(f"last candle closed {words} ago"), label
