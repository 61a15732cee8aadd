"""Parser inputs that used to raise raw exceptions, or were accepted, are clear DataErrors."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.assets import resolve_asset
from cryptoforecast.data import validate_candles
from cryptoforecast.data.sources.base import read_candle_csv
from cryptoforecast.data.sources.binance import parse_klines
from cryptoforecast.data.sources.coingecko import CoinGeckoSource
from cryptoforecast.data.sources.coingecko_payloads import parse_market_chart
from cryptoforecast.data.sources.pacing import RetryPolicy
from cryptoforecast.exceptions import DataError, SourceError
from tests.live_servers import COINGECKO_CHART_RE, install_coingecko, respond_next

SECRET = "CG-echoed-key-9876543210"
HEADER = "open_time,open,high,low,close,volume\n"


def _csv(text: str) -> pd.DataFrame:
    return read_candle_csv(io.StringIO(text), "test.csv")


def test_epoch_ms_out_of_range_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"holds 100000000000000000, outside epoch milliseconds"):
        _csv(HEADER + "100000000000000000,1,1,1,1,1\n")
    with pytest.raises(DataError, match="outside epoch milliseconds"):
        _csv(HEADER + "-1e16,1,1,1,1,1\n")


def test_epoch_seconds_are_recognised_as_seconds() -> None:
    rows = "".join(f"{1704067200 + 86400 * i},1,1,1,1,1\n" for i in range(3))
    with pytest.raises(DataError, match=r"looks like epoch seconds .*multiply the column by 1000"):
        _csv(HEADER + rows)


def test_columns_that_differ_only_in_case_are_named() -> None:
    with pytest.raises(DataError, match=r"columns \['Close', 'close'\] differ only in case"):
        _csv("open_time,open,high,low,Close,close,volume\n1704067200000,1,1,1,1,1,1\n")


def test_absurd_prices_are_refused() -> None:
    frame = _csv(HEADER + "1704067200000,1e308,1e308,1e308,1e308,1\n")
    with pytest.raises(DataError, match=r"open > 1e\+12"):
        validate_candles(frame, "1d")


def test_binance_open_time_out_of_range_is_a_source_error() -> None:
    kline = [-(10**16), "1", "1", "1", "1", "1", 1, "1", 1, "1", "1", "0"]
    with pytest.raises(SourceError, match=r"'open_time' \(index 0\) = -10000000000000000"):
        parse_klines([kline], "Binance BTCUSDT 1d")
    kline = [0, "1", "1", "1", "1", "1", 10**17, "1", 1, "1", "1", "0"]
    with pytest.raises(SourceError, match="'close_time'"):
        parse_klines([kline], "Binance BTCUSDT 1d")


def test_coingecko_point_out_of_range_is_a_source_error() -> None:
    body = {key: [[10**17, 1.0]] for key in ("prices", "market_caps", "total_volumes")}
    with pytest.raises(SourceError, match="is not a time in ms from 1970 to 2100"):
        parse_market_chart(body, "CoinGecko bitcoin 1d")


def _source(server: HTTPServer) -> CoinGeckoSource:
    return CoinGeckoSource(
        base_url=server.url_for("/api/v3"),
        api_key=SECRET,
        calls_per_minute=None,
        retry=RetryPolicy(max_attempts=1, base_delay=0.0, jitter=0.0),
        now=lambda: pd.Timestamp("2025-10-01 13:37", tz="UTC"),
    )


def test_coingecko_nested_error_status_is_described(httpserver: HTTPServer) -> None:
    install_coingecko(httpserver, api_key=SECRET)
    respond_next(httpserver, COINGECKO_CHART_RE, json.dumps({"error": {"status": "bad"}}), 400)
    with pytest.raises(SourceError, match=r"HTTP 400: \{'status': 'bad'\}"):
        _source(httpserver).fetch(resolve_asset("bitcoin"), "1d")


def test_a_200_payload_echoing_the_key_is_redacted(httpserver: HTTPServer) -> None:
    install_coingecko(httpserver, api_key=SECRET)
    respond_next(httpserver, COINGECKO_CHART_RE, json.dumps({"prices": f"echo {SECRET}"}))
    with pytest.raises(SourceError) as info:
        _source(httpserver).fetch(resolve_asset("bitcoin"), "1d")
    assert SECRET not in str(info.value)
    respond_next(httpserver, COINGECKO_CHART_RE, json.dumps([f"echo {SECRET}"]))
    with pytest.raises(SourceError) as info:
        _source(httpserver).fetch(resolve_asset("bitcoin"), "1d")
    assert SECRET not in str(info.value) and "***" in str(info.value)
