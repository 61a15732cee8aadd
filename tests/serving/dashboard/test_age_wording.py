"""The dashboard's staleness label words the age as people read it: ``1 year 2 months``, not
``432 days``; ``1 day 1 h``, not ``25 h``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cryptoforecast.serving.dashboard.overview import staleness
from tests.serving.dashboard.test_pages import AS_OF, forecast


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
    label = staleness(forecast(), closed + age).label
    assert label.endswith(f"last candle closed {words} ago"), label
