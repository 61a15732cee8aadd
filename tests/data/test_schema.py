"""validate_candles: each rule, with the row and the rule named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.data import find_gaps, validate_candles
from cryptoforecast.exceptions import DataError


def frame(n: int = 6, freq: str = "D") -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC")
    close = np.linspace(100, 110, n)
    return pd.DataFrame(
        {"open": close - 1, "high": close + 2, "low": close - 2, "close": close, "volume": 1.0},
        index=idx,
    )


def test_valid_frame_passes_and_is_float64() -> None:
    df = frame()
    df["volume"] = df["volume"].astype(int)
    out = validate_candles(df)
    assert (out.dtypes == np.float64).all()
    assert out.index.name == "timestamp"


def test_naive_index_is_localised_to_utc() -> None:
    df = frame()
    df.index = df.index.tz_localize(None)
    assert str(validate_candles(df).index.tz) == "UTC"


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (
            lambda d: d.assign(close=d["close"].where(d.index != d.index[2], -1.0)),
            r"close <= 0 at 2024-01-03",
        ),
        (
            lambda d: d.assign(volume=d["volume"].where(d.index != d.index[1], -3.0)),
            r"volume < 0 at 2024-01-02",
        ),
        (
            lambda d: d.assign(low=d["low"].where(d.index != d.index[4], 1e6)),
            r"low > min\(open, close\) at 2024-01-05",
        ),
        (lambda d: d.iloc[[0, 2, 1, 3]], r"timestamps out of order at 2024-01-02"),
        (lambda d: d.drop(columns=["volume"]), r"missing column\(s\) \['volume'\]"),
        (lambda d: d.drop(columns=["high"]), r"not all of open, high, low"),
        (lambda d: d.iloc[:0], r"empty frame"),
        (lambda d: d.reset_index(drop=True), r"index must be a DatetimeIndex"),
        (
            lambda d: d.assign(close=d["close"].astype(str).where(d.index != d.index[0], "x")),
            r"'close' is not numeric",
        ),
    ],
)
def test_rule_violations(mutate, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        validate_candles(mutate(frame()))


def test_off_grid_timestamp() -> None:
    df = frame()
    df.index = df.index + pd.Timedelta(hours=1)
    with pytest.raises(DataError, match="not on the 1d grid"):
        validate_candles(df)


def test_gap_policies() -> None:
    df = frame(10).drop(index=pd.Timestamp("2024-01-05", tz="UTC"))
    assert find_gaps(df.index, "1d") == [
        (pd.Timestamp("2024-01-04", tz="UTC"), pd.Timestamp("2024-01-06", tz="UTC"))
    ]
    with pytest.raises(DataError, match="on_gap='ffill'"):
        validate_candles(df)
    assert len(validate_candles(df, on_gap="drop")) == 9
    filled = validate_candles(df, on_gap="ffill")
    assert len(filled) == 10
    row = filled.loc[pd.Timestamp("2024-01-05", tz="UTC")]
    prev_close = df.loc[pd.Timestamp("2024-01-04", tz="UTC"), "close"]
    assert row["close"] == prev_close and row["volume"] == 0.0
    assert row["high"] == prev_close


def test_close_volume_only_frames_are_valid() -> None:
    df = frame()[["close", "volume"]].assign(market_cap=1e9)
    out = validate_candles(df)
    assert list(out.columns) == ["close", "volume", "market_cap"]


def test_bad_gap_policy() -> None:
    with pytest.raises(DataError, match="on_gap must be"):
        validate_candles(frame(), on_gap="skip")  # type: ignore[arg-type]
