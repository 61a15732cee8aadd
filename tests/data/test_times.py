"""``parse_time`` and ``as_of_instant``: the one parser of every user-given time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.data.times import as_of_instant, parse_time
from cryptoforecast.exceptions import DataError


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize(
    ("value", "expected", "date_only"),
    [
        ("2025-01-01", utc("2025-01-01"), True),
        (" 2025-01-01 ", utc("2025-01-01"), True),
        ("2025-01-01T12:00", utc("2025-01-01 12:00"), False),
        ("2025-01-01 12:00:30", utc("2025-01-01 12:00:30"), False),
        ("2025-01-01T12:00:30.250", utc("2025-01-01 12:00:30.250"), False),
        ("2025-01-01T12:00:00Z", utc("2025-01-01 12:00"), False),
        ("2025-01-01T14:00:00+02:00", utc("2025-01-01 12:00"), False),
        ("2025-01-01T22:00-05:00", utc("2025-01-02 03:00"), False),
        (dt.date(2025, 1, 1), utc("2025-01-01"), True),
        (dt.datetime(2025, 1, 1, 12), utc("2025-01-01 12:00"), False),
        (pd.Timestamp("2025-01-01 14:00", tz="Europe/Berlin"), utc("2025-01-01 13:00"), False),
        (np.datetime64("2025-01-01T12:00"), utc("2025-01-01 12:00"), False),
    ],
)
def test_accepted_forms_are_utc(value: object, expected: pd.Timestamp, date_only: bool) -> None:
    ts, only = parse_time(value, "as_of")
    assert ts == expected and str(ts.tz) == "UTC"
    assert only is date_only


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "nan",
        "NaN",
        "NaT",
        "None",
        "null",
        "-1",
        "0",
        "1",
        "1e5",
        "inf",
        "now",
        "today",
        "yesterdayish",
        "20250101",
        "2025",
        "2025-01",
        "2025-W01-1",
        "Jan 1 2025",
        "2025-13-01",
        "2025-02-30",
        "2025-01-01T25:00",
        "2025-01-01Z",
        "2025-01-01T00:00:00 02:00",  # a '+' sent unencoded in a URL arrives as a space
        "99999-01-01",
        "1700000000",
        "1969-12-31",
        "2262-01-01",
    ],
)
def test_refused_strings_name_the_parameter_the_value_and_the_forms(value: str) -> None:
    with pytest.raises(DataError) as info:
        parse_time(value, "as_of")
    text = str(info.value)
    assert text.startswith(f"as_of={value!r} is not a date or date-time")
    assert "2025-01-01" in text and "2025-01-01T12:00" in text and "+02:00" in text


def test_the_bounds_apply_in_utc() -> None:
    ts, _ = parse_time("1969-12-31T23:00:00-02:00", "as_of")  # 1970-01-01T01:00Z
    assert ts == utc("1970-01-01 01:00")
    with pytest.raises(DataError, match="from 1970-01-01"):
        parse_time("1970-01-01T01:00:00+02:00", "as_of")  # 1969-12-31T23:00Z


@pytest.mark.parametrize(
    "value",
    [pd.NaT, float("nan"), np.datetime64("NaT"), None, 20250101, 1.5, True, b"2025-01-01"],
)
def test_refused_objects(value: object) -> None:
    with pytest.raises(DataError, match=r"^as_of=.* is not a date or date-time"):
        parse_time(value, "as_of")


def test_a_flag_name_reads_as_a_flag() -> None:
    with pytest.raises(DataError, match=r"^--end 'nan' is not a date or date-time"):
        parse_time("nan", "--end")


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        ("2025-01-01", utc("2025-01-02")),  # a date: that day's close, the next midnight UTC
        (dt.date(2025, 1, 1), utc("2025-01-02")),
        ("2025-01-01T00:00:01", utc("2025-01-01 00:00:01")),  # a date-time: itself
        ("2025-01-02T01:00+01:00", utc("2025-01-02")),
        (pd.Timestamp("2025-01-01"), utc("2025-01-01")),
    ],
)
def test_as_of_instant(value: object, instant: pd.Timestamp) -> None:
    assert as_of_instant(value) == instant


def test_load_ohlcv_as_of_keeps_the_candles_closed_by_then() -> None:
    from cryptoforecast.data import load_ohlcv

    assert load_ohlcv("bitcoin", as_of="2025-01-01").index[-1] == utc("2025-01-01")
    assert load_ohlcv("bitcoin", as_of="2025-01-01T00:00:01").index[-1] == utc("2024-12-31")
    assert load_ohlcv("bitcoin", as_of="2025-01-02T00:00").index[-1] == utc("2025-01-01")
    # ``end`` names the last candle to keep, by its date: unchanged
    assert load_ohlcv("bitcoin", end="2025-01-01T00:00:01").index[-1] == utc("2025-01-01")
    four = load_ohlcv("bitcoin", interval="4h", as_of="2025-01-01T08:00")
    assert four.index[-1] == utc("2025-01-01 04:00")
    with pytest.raises(DataError, match="not both"):
        load_ohlcv("bitcoin", end="2025-01-01", as_of="2025-01-01")
    with pytest.raises(DataError, match=r"had closed by as_of='2000-01-01'"):
        load_ohlcv("bitcoin", as_of="2000-01-01")
