"""The loader's cut of a series (``end``, ``as_of``, ``days``) equals its definition, the candles
known then, whatever the form of the bound, and hands back a frame of its own: changing it never
changes the next load."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptoforecast.data import load_ohlcv
from cryptoforecast.data.schema import check_interval
from cryptoforecast.data.times import as_of_instant, parse_time


@pytest.mark.parametrize("interval", ["1d", "4h"])
@pytest.mark.parametrize(
    "bound",
    [
        "2024-03-01",
        "2024-03-01T00:00:00",
        "2024-03-01T03:59:59",
        "2024-03-01T04:00:00Z",
        "2024-02-29T23:00:00-02:00",
    ],  # fmt: skip
)
def test_the_cut_is_the_candles_known_by_then(interval: str, bound: str) -> None:
    full = load_ohlcv("bitcoin", interval=interval)
    step = check_interval(interval)

    known = as_of_instant(bound)
    pd.testing.assert_frame_equal(
        load_ohlcv("bitcoin", interval=interval, as_of=bound),
        full[full.index + step <= known],
        check_freq=False,
    )
    end_ts, date_only = parse_time(bound)
    kept = (
        full.index < end_ts.normalize() + pd.Timedelta(days=1)
        if date_only
        else full.index <= end_ts
    )
    pd.testing.assert_frame_equal(
        load_ohlcv("bitcoin", interval=interval, end=bound, days=50),
        full[kept].iloc[-50:],
        check_freq=False,
    )


def test_a_loaded_frame_is_its_own() -> None:
    first = load_ohlcv("bitcoin", days=30, as_of="2024-03-01")
    expected = first.copy()
    first.loc[:, "close"] = -1.0
    first.attrs["crypto_id"] = "changed"
    again = load_ohlcv("bitcoin", days=30, as_of="2024-03-01")
    pd.testing.assert_frame_equal(again, expected)
    assert again.attrs["crypto_id"] == "bitcoin"
    whole = load_ohlcv("bitcoin")
    whole.iloc[0, 0] = -1.0
    assert load_ohlcv("bitcoin").iloc[0, 0] != -1.0
