"""load_ohlcv: schema, slicing and every bad input the foundation promises a clear error for."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.data import CandleCache, load_ohlcv
from cryptoforecast.exceptions import DataError

HEADER = "open_time,open,high,low,close,volume\n"


def _rows(days: int, start: str = "2024-01-01") -> list[str]:
    out = []
    for i, ts in enumerate(pd.date_range(start, periods=days, freq="D")):
        p = 100.0 + i
        out.append(f"{ts:%Y-%m-%dT%H:%M:%SZ},{p},{p + 2},{p - 2},{p + 1},{10 + i}")
    return out


def _write(tmp_path: Path, rows: list[str], name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_bitcoin_full_history_schema(btc_daily: pd.DataFrame) -> None:
    df = btc_daily
    assert df.index.name == "timestamp"
    assert str(df.index.tz) == "UTC"
    assert df.index.is_monotonic_increasing and df.index.is_unique
    assert df.index[0] == pd.Timestamp("2018-03-17", tz="UTC")
    assert df.index[-1] == pd.Timestamp("2025-09-30", tz="UTC")
    assert list(df.columns[:5]) == ["open", "high", "low", "close", "volume"]
    assert {"quote_volume", "trades"} <= set(df.columns)
    assert all(df[c].dtype == np.float64 for c in df.columns)
    assert (df.index[1:] - df.index[:-1] == pd.Timedelta(days=1)).all()


def test_days_and_end_slice() -> None:
    df = load_ohlcv("BTC", days=30, end="2024-01-31")
    assert len(df) == 30
    assert df.index[-1] == pd.Timestamp("2024-01-31", tz="UTC")
    assert df.index[0] == pd.Timestamp("2024-01-02", tz="UTC")
    assert df.attrs["crypto_id"] == "bitcoin"


def test_days_accepts_numpy_integers() -> None:
    assert len(load_ohlcv("bitcoin", days=np.int64(30))) == 30


def test_symbols_resolve_to_same_series() -> None:
    a = load_ohlcv("bitcoin", days=5)
    b = load_ohlcv("BTCUSDT", days=5)
    c = load_ohlcv("btc", days=5)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


@pytest.mark.parametrize("asset", [a.id for a in snapshot_assets()])
def test_every_snapshot_asset_loads_daily_and_4h(asset: str) -> None:
    daily = load_ohlcv(asset)
    assert daily.index[-1] == pd.Timestamp("2025-09-30", tz="UTC")
    four = load_ohlcv(asset, interval="4h")
    assert len(four) > 5 * len(daily)
    assert four.index.is_unique and four.index.is_monotonic_increasing


def test_4h_gaps_raise_when_asked_and_fill_when_asked() -> None:
    with pytest.raises(DataError, match="missing 4h candles"):
        load_ohlcv("bitcoin", interval="4h", on_gap="raise")
    filled = load_ohlcv("bitcoin", interval="4h", on_gap="ffill")
    assert (filled.index[1:] - filled.index[:-1] == pd.Timedelta(hours=4)).all()


def test_returned_frame_is_a_copy() -> None:
    df = load_ohlcv("bitcoin", days=3)
    df.loc[df.index[-1], "close"] = -1.0
    assert load_ohlcv("bitcoin", days=3)["close"].iloc[-1] > 0


def test_csv_source_iso_and_epoch_ms(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows(10))
    df = load_ohlcv("bitcoin", source="csv", path=path)
    assert len(df) == 10 and df.index[0] == pd.Timestamp("2024-01-01", tz="UTC")
    ms = tmp_path / "ms.csv"
    raw = pd.read_csv(path)
    raw["open_time"] = (
        pd.to_datetime(raw["open_time"]) - pd.Timestamp(0, tz="UTC")
    ) // pd.Timedelta(milliseconds=1)
    raw.to_csv(ms, index=False)
    pd.testing.assert_frame_equal(
        load_ohlcv("bitcoin", source="csv", path=ms), df, check_freq=False
    )


def test_shared_csv_file_matches_snapshot(shared_data: Path) -> None:
    from_csv = load_ohlcv("ethereum", source="csv", path=shared_data / "1d" / "ETHUSDT.csv")
    pd.testing.assert_frame_equal(from_csv, load_ohlcv("ethereum"), check_like=True)


BAD_CASES = {
    "nan close": (
        lambda r: r[:3] + [r[3].rsplit(",", 2)[0] + ",,13"] + r[4:],
        r"close is NaN at 2024-01-04",
    ),
    "high below low": (
        lambda r: r[:5] + ["2024-01-06T00:00:00Z,105,100,110,106,15"] + r[6:],
        r"high < max\(open, close\) at 2024-01-06",
    ),
    "duplicated day": (lambda r: r[:5] + [r[4]] + r[5:], r"duplicate timestamp at 2024-01-05"),
    "missing day": (lambda r: r[:5] + r[6:], r"missing 1d candles after 2024-01-05.*1 missing"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_csv_gives_clear_error_and_cache_unchanged(
    tmp_path: Path, cf_home: Path, case: str
) -> None:
    cache = CandleCache()
    good = load_ohlcv("bitcoin", days=20)
    cache.write(good, "binance", "bitcoin", "1d")
    before = _tree_digest(cf_home)
    mutate, pattern = BAD_CASES[case]
    path = _write(tmp_path, mutate(_rows(10)))
    with pytest.raises(DataError, match=pattern):
        load_ohlcv("bitcoin", source="csv", path=path)
    assert _tree_digest(cf_home) == before


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"crypto_id": "bitcoinn"}, r"unknown asset id 'bitcoinn'.*Did you mean: .*bitcoin"),
        ({"crypto_id": "etherium"}, r"Did you mean: .*ethereum"),
        ({"crypto_id": "bitcoin", "interval": "1h"}, r"unknown interval '1h'; use one of 1d, 4h"),
        ({"crypto_id": "bitcoin", "days": -5}, r"days must be a positive whole number.*-5"),
        ({"crypto_id": "bitcoin", "days": 0}, r"days must be a positive"),
        ({"crypto_id": "bitcoin", "source": "yahoo"}, r"unknown source 'yahoo'"),
        (
            {"crypto_id": "bitcoin", "source": "csv"},
            r"built-in asset .bitcoin. only from a CSV file: give it as path=",
        ),
        ({"crypto_id": "bitcoin", "end": "not-a-date"}, r"end='not-a-date' is not a date"),
        (
            {"crypto_id": "bitcoin", "end": "2010-01-01"},
            r"no 1d candles for 'bitcoin' on or before",
        ),
        ({"crypto_id": "ripple"}, r"embedded snapshot has no data for 'ripple'"),
    ],
)
def test_bad_arguments_raise_data_error(kwargs: dict, pattern: str, cf_home: Path) -> None:
    before = _tree_digest(cf_home)
    with pytest.raises(DataError, match=pattern):
        load_ohlcv(**kwargs)
    assert _tree_digest(cf_home) == before


def test_missing_csv_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="CSV file not found"):
        load_ohlcv("bitcoin", source="csv", path=tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"refresh": True}, r"refresh=True only apply to the live sources"),
        ({"base_url": "https://api.binance.us"}, r"base_url= only apply to the live sources"),
        ({"source": "csv", "path": "x.csv", "refresh": True}, r"not to source='csv'"),
    ],
)
def test_live_only_options_are_not_silently_ignored(kwargs: dict, pattern: str) -> None:
    # refresh=True on the embedded snapshot would quietly return candles that end 2025-09-30
    with pytest.raises(DataError, match=pattern + r".*source='binance'"):
        load_ohlcv("bitcoin", **kwargs)
