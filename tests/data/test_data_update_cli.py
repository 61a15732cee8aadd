"""``cryptoforecast data update`` against a local Binance-format server."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.data import CandleCache, load_ohlcv
from tests.cli_runner import run
from tests.live_servers import install_binance, shared_candles, use_binance_server


def test_update_named_assets(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = use_binance_server(httpserver, monkeypatch)
    code, out, err = run(["data", "update", "ETH", "solana", "--source", "binance"], capsys)
    assert code == 0, err
    assert "ethereum" in out and "solana" in out and "2025-09-30" in out
    assert f"+{len(shared_candles('ethereum')):,}" in out
    assert {(s, c, i) for s, c, i in CandleCache().entries()} == {
        ("binance", "ethereum", "1d"),
        ("binance", "solana", "1d"),
    }
    assert {r["symbol"] for r in fake.requests} == {"ETHUSDT", "SOLUSDT"}


def test_update_all_refreshes_every_cached_series(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = use_binance_server(httpserver, monkeypatch)
    for cid in ("bitcoin", "litecoin"):
        fake.set_candles(cid, "1d", shared_candles(cid, end="2025-09-20"))
        load_ohlcv(cid, source="binance")
    for cid in ("bitcoin", "litecoin"):
        fake.set_candles(cid, "1d", shared_candles(cid))
    n = len(fake.requests)
    code, out, err = run(["data", "update", "--all"], capsys)
    assert code == 0, err
    assert out.count("+10") == 2  # ten new days each
    assert len(fake.requests) == n + 2  # one small request per series
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
    assert "1 of 2 series could not be updated" in err
    assert [e[1] for e in CandleCache().entries()] == ["bitcoin"]


def test_update_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(["data", "update"], capsys)
    assert code == 2
    code, _, err = run(["data", "update", "bitcoin", "--source", "kraken"], capsys)
    assert code == 1 and "--source must be one of binance, coingecko, got 'kraken'" in err
