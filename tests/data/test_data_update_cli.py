"""``cryptoforecast data update`` against a local Binance-format server."""

from __future__ import annotations

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.data import CandleCache, load_ohlcv
from tests.cli_runner import run
from tests.live_servers import (
    install_binance,
    shared_candles,
    use_binance_server,
    use_coingecko_server,
)


def test_update_named_assets(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = use_binance_server(httpserver, monkeypatch)
    code, out, err = run(["data", "update", "ETH", "solana", "--source", "binance"], capsys)
    assert code == 0, err
    assert "ethereum" in out and "solana" in out and "2025-09-30" in out
    assert f"+{len(shared_candles('ethereum')):,}" in out
    # each coin's 4h candles beside its daily ones: Binance has them
    assert {(s, c, i) for s, c, i in CandleCache().entries()} == {
        ("binance", "ethereum", "1d"),
        ("binance", "ethereum", "4h"),
        ("binance", "solana", "1d"),
        ("binance", "solana", "4h"),
    }
    assert {r["symbol"] for r in fake.requests} == {"ETHUSDT", "SOLUSDT"}


def test_update_all_refreshes_every_cached_series(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = use_binance_server(httpserver, monkeypatch)
    for cid in ("bitcoin", "litecoin"):
        fake.set_candles(cid, "1d", shared_candles(cid, end="2025-09-20"))
        fake.set_candles(cid, "4h", shared_candles(cid, "4h", end="2025-09-20 20:00"))
        load_ohlcv(cid, source="binance")
        load_ohlcv(cid, source="binance", interval="4h")
    for cid in ("bitcoin", "litecoin"):
        fake.set_candles(cid, "1d", shared_candles(cid))
        fake.set_candles(cid, "4h", shared_candles(cid, "4h"))
    n = len(fake.requests)
    code, out, err = run(["data", "update", "--all"], capsys)
    assert code == 0, err
    assert out.count("+10") == 2  # ten new days each
    assert out.count("+60") == 2  # and their 4h candles
    assert len(fake.requests) == n + 4  # one small request per series
    assert load_ohlcv("litecoin", source="binance").index[-1].strftime("%Y-%m-%d") == "2025-09-30"


def test_update_all_with_nothing_cached(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["data", "update", "--all"], capsys)
    assert code == 0 and "No cached live series" in out


def test_update_reports_failures_and_exits_1(
    httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = install_binance(httpserver, symbols=["bitcoin"])
    code, out, err = run(
        ["data", "update", "bitcoin", "ripple", "--base-url", fake.base_url], capsys
    )
    assert code == 1
    assert "bitcoin" in out  # the good one is still updated
    assert "ripple" in err and "Invalid symbol" in err
    assert "2 of 4 series could not be updated" in err  # ripple's daily and 4h candles
    assert sorted(CandleCache().entries()) == [
        ("binance", "bitcoin", "1d"),
        ("binance", "bitcoin", "4h"),
    ]


def test_update_keeps_4h_beside_1d_where_the_source_has_them(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --interval a coin's daily candles come with its 4h candles (Binance), fetched
    first, ending at the same close; an explicit --interval updates that series alone, and
    CoinGecko (daily closes only) is asked for nothing more."""
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin", "ethereum"])
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", end="2025-09-28"))
    fake.set_candles("bitcoin", "4h", shared_candles("bitcoin", "4h", end="2025-09-28 20:00"))
    code, _, err = run(["data", "update", "bitcoin"], capsys)
    assert code == 0, err
    assert [r["interval"] for r in fake.requests][:1] == ["4h"]  # the 4h candles first
    cache = CandleCache()
    daily, bars = cache.read("binance", "bitcoin", "1d"), cache.read("binance", "bitcoin", "4h")
    assert daily is not None and bars is not None
    assert bars.index[-1] + pd.Timedelta(hours=4) == daily.index[-1] + pd.Timedelta(days=1)

    n = len(fake.requests)
    code, _, err = run(["data", "update", "ethereum", "--interval", "1d"], capsys)
    assert code == 0, err
    assert {r["interval"] for r in fake.requests[n:]} == {"1d"}
    assert ("binance", "ethereum", "4h") not in cache.entries()

    gecko = use_coingecko_server(httpserver, monkeypatch, ids=["litecoin"])
    # a cached CoinGecko series (its first download reaches back from today's date only)
    seed = shared_candles("litecoin", end="2025-09-20")[["close", "volume"]]
    cache.write(seed.assign(market_cap=seed["close"] * 7.5e7), "coingecko", "litecoin", "1d")
    code, _, err = run(["data", "update", "litecoin", "--source", "coingecko"], capsys)
    assert code == 0, err
    assert gecko.requests and [e for e in cache.entries() if e[0] == "coingecko"] == [
        ("coingecko", "litecoin", "1d")
    ]


def test_update_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(["data", "update"], capsys)
    assert code == 2
    code, _, err = run(["data", "update", "bitcoin", "--source", "kraken"], capsys)
    assert code == 1 and "--source must be one of binance, coingecko, got 'kraken'" in err
