"""BinanceSource against a local server speaking the klines format (no network)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.assets import resolve_asset
from cryptoforecast.data import validate_candles
from cryptoforecast.data.sources.binance import DEFAULT_BINANCE_URL, BinanceSource, parse_klines
from cryptoforecast.data.sources.pacing import RetryPolicy
from cryptoforecast.exceptions import DataError, SourceError
from tests.live_servers import (
    BINANCE_KLINES_PATH,
    delay_next,
    fail_next,
    install_binance,
    klines_rows,
    respond_next,
    shared_candles,
)

ETH = resolve_asset("ethereum")


class SleepRecorder:
    """An injected sleep: records the waits asked for and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_source(server: HTTPServer, sleep: SleepRecorder | None = None, **kwargs) -> BinanceSource:  # type: ignore[no-untyped-def]
    kwargs.setdefault(
        "retry", RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=30.0, jitter=0.0)
    )
    return BinanceSource(
        base_url=server.url_for(""), calls_per_minute=None, sleep=sleep or SleepRecorder(), **kwargs
    )


def test_full_history_pages_through_1000_candle_pages(httpserver: HTTPServer) -> None:
    fake = install_binance(httpserver)
    source = make_source(httpserver)
    raw = source.fetch(ETH, "1d")
    expected = shared_candles("ethereum")
    pd.testing.assert_frame_equal(raw, expected, check_freq=False)
    assert len(expected) > 2000
    assert len(fake.requests) == -(-len(expected) // 1000)  # ceil: 1,000 candles a page
    first, second = fake.requests[0], fake.requests[1]
    assert first["startTime"] == "0" and first["limit"] == "1000"
    page_one_last = expected.index[999]
    assert int(second["startTime"]) == int((page_one_last + pd.Timedelta(days=1)).value // 10**6)
    assert all(r["symbol"] == "ETHUSDT" and r["interval"] == "1d" for r in fake.requests)
    validate_candles(raw, "1d")  # the result passes the one validator


def test_small_pages_and_a_start_time(httpserver: HTTPServer) -> None:
    fake = install_binance(httpserver)
    source = make_source(httpserver, page_limit=7)
    raw = source.fetch(ETH, "1d", start=pd.Timestamp("2025-09-01", tz="UTC"))
    assert raw.index[0] == pd.Timestamp("2025-09-01", tz="UTC")
    assert len(raw) == 30 and len(fake.requests) == 5  # 7+7+7+7+2
    pd.testing.assert_frame_equal(raw, shared_candles("ethereum", days=30), check_freq=False)


def test_open_last_candle_is_dropped(httpserver: HTTPServer) -> None:
    fake = install_binance(httpserver, open_candle=True)
    during = make_source(httpserver, now=lambda: pd.Timestamp("2025-10-01 12:00", tz="UTC"))
    raw = during.fetch(ETH, "1d", start=pd.Timestamp("2025-09-25", tz="UTC"))
    assert raw.index[-1] == pd.Timestamp("2025-09-30", tz="UTC")
    assert len(fake.requests) == 1
    # The same answer, seen after that candle has closed, keeps it: it is dropped only while open.
    after = make_source(httpserver, now=lambda: pd.Timestamp("2025-10-02 00:00:01", tz="UTC"))
    assert after.fetch(ETH, "1d", start=pd.Timestamp("2025-09-25", tz="UTC")).index[
        -1
    ] == pd.Timestamp("2025-10-01", tz="UTC")


def test_429_with_retry_after_is_honoured_then_succeeds(httpserver: HTTPServer) -> None:
    install_binance(httpserver)
    fail_next(
        httpserver,
        BINANCE_KLINES_PATH,
        status=429,
        retry_after=7,
        body={"code": -1003, "msg": "Too many requests."},
    )
    sleep = SleepRecorder()
    source = make_source(httpserver, sleep)
    raw = source.fetch(ETH, "1d", start=pd.Timestamp("2025-09-01", tz="UTC"))
    assert len(raw) == 30
    assert sleep.calls == [7.0]  # exactly what the server asked for, not the 0.01 s backoff
    assert source.requests_sent == 2


def test_three_500s_then_success_with_exponential_backoff(httpserver: HTTPServer) -> None:
    install_binance(httpserver)
    fail_next(httpserver, BINANCE_KLINES_PATH, status=500, times=3)
    sleep = SleepRecorder()
    source = make_source(httpserver, sleep)
    raw = source.fetch(ETH, "1d", start=pd.Timestamp("2025-09-01", tz="UTC"))
    assert len(raw) == 30
    assert sleep.calls == pytest.approx([0.01, 0.02, 0.04])
    assert source.requests_sent == 4


def test_a_timeout_is_retried(httpserver: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    install_binance(httpserver)
    delay_next(httpserver, BINANCE_KLINES_PATH, 0.4)
    # Real sleeps here: the single-threaded server is busy until the slow answer is sent.
    retry = RetryPolicy(max_attempts=5, base_delay=0.5, jitter=0.0)
    source = BinanceSource(
        base_url=httpserver.url_for(""), calls_per_minute=None, retry=retry, timeout=0.2
    )
    with caplog.at_level("WARNING", logger="cryptoforecast"):
        raw = source.fetch(ETH, "1d", start=pd.Timestamp("2025-09-01", tz="UTC"))
    assert len(raw) == 30
    assert source.requests_sent >= 2
    assert "timed out after 0.2 s (ReadTimeout)" in caplog.text


def test_attempts_are_capped(httpserver: HTTPServer) -> None:
    install_binance(httpserver)
    fail_next(httpserver, BINANCE_KLINES_PATH, status=503, times=3)
    source = make_source(httpserver, retry=RetryPolicy(max_attempts=3, base_delay=0.001, jitter=0))
    with pytest.raises(SourceError, match=r"failed after 3 attempt\(s\): HTTP 503"):
        source.fetch(ETH, "1d")
    assert source.requests_sent == 3


def test_truncated_json_is_a_clear_error(httpserver: HTTPServer) -> None:
    install_binance(httpserver)
    body = json.dumps(klines_rows(shared_candles("ethereum", days=3), "1d"))[:-25]
    respond_next(httpserver, BINANCE_KLINES_PATH, body)
    source = make_source(httpserver)
    with pytest.raises(DataError, match=r"not valid JSON .*possibly truncated"):
        source.fetch(ETH, "1d")


def test_a_string_where_a_number_belongs_names_field_and_position(httpserver: HTTPServer) -> None:
    install_binance(httpserver)
    rows = klines_rows(shared_candles("ethereum", days=5), "1d")
    rows[3][4] = "12,5O"  # a close that is not a number
    respond_next(httpserver, BINANCE_KLINES_PATH, json.dumps(rows))
    source = make_source(httpserver)
    with pytest.raises(
        DataError,
        match=r"kline #3 \(2025-09-29T00:00:00\+00:00\) field 'close' \(index 4\) = '12,5O'",
    ):
        source.fetch(ETH, "1d", start=pd.Timestamp("2025-09-26", tz="UTC"))


def test_open_time_as_string_is_rejected() -> None:
    rows = klines_rows(shared_candles("ethereum", days=2), "1d")
    rows[1][0] = str(rows[1][0])
    with pytest.raises(SourceError, match=r"kline #11 field 'open_time' \(index 0\)"):
        parse_klines(rows, "Binance ETHUSDT 1d", first_row=10)


@pytest.mark.parametrize(
    ("payload", "pattern"),
    [
        ({"code": 0}, "expected a JSON array of klines, got dict"),
        ([[1, "1"]], r"kline #0 should be an array of 12 fields"),
        ("x", "got str"),
    ],
)
def test_payload_shape_errors(payload: object, pattern: str) -> None:
    with pytest.raises(SourceError, match=pattern):
        parse_klines(payload, "Binance ETHUSDT 1d")


def test_unsorted_klines_are_rejected() -> None:
    rows = klines_rows(shared_candles("ethereum", days=3), "1d")
    rows[1], rows[2] = rows[2], rows[1]
    with pytest.raises(SourceError, match=r"kline #2 open_time .* is not after the previous one"):
        parse_klines(rows, "Binance ETHUSDT 1d")


def test_unknown_symbol_fails_at_once_with_the_server_message(httpserver: HTTPServer) -> None:
    install_binance(httpserver)  # lists the 8 shared symbols, not XRP
    source = make_source(httpserver)
    with pytest.raises(
        DataError, match=r"symbol 'XRPUSDT' \(HTTP 400, code -1121: Invalid symbol\.\)"
    ):
        source.fetch(resolve_asset("ripple"), "1d")
    assert source.requests_sent == 1  # a 4xx other than 429 is not retried


def test_451_says_to_use_binance_us(httpserver: HTTPServer) -> None:
    fail_next(
        httpserver,
        BINANCE_KLINES_PATH,
        status=451,
        body={"code": 0, "msg": "Service unavailable from a restricted location"},
    )
    source = make_source(httpserver)
    with pytest.raises(DataError) as info:
        source.fetch(ETH, "1d")
    message = str(info.value)
    assert "HTTP 451" in message and "United States" in message
    assert "https://api.binance.us" in message and "CRYPTOFORECAST_BINANCE_URL" in message
    assert source.requests_sent == 1


def test_connection_refused_is_retried_then_reported() -> None:
    sleep = SleepRecorder()
    source = BinanceSource(
        base_url="http://127.0.0.1:9",  # discard port on loopback: nothing listens
        calls_per_minute=None,
        sleep=sleep,
        retry=RetryPolicy(max_attempts=2, base_delay=0.001, jitter=0),
    )
    with pytest.raises(SourceError, match=r"failed after 2 attempt\(s\): connection refused"):
        source.fetch(ETH, "1d")
    assert len(sleep.calls) == 1


def test_base_url_is_read_from_the_environment_at_call_time(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = install_binance(httpserver)
    source = BinanceSource(calls_per_minute=None)  # created before the variable is set
    assert source.base_url == DEFAULT_BINANCE_URL
    monkeypatch.setenv("CRYPTOFORECAST_BINANCE_URL", fake.base_url + "/")
    assert source.base_url == fake.base_url
    assert len(source.fetch(ETH, "1d", start=pd.Timestamp("2025-09-30", tz="UTC"))) == 1
    assert BinanceSource(base_url="http://127.0.0.1:9/us").base_url == "http://127.0.0.1:9/us"


def test_4h_candles_keep_real_outages(httpserver: HTTPServer) -> None:
    install_binance(httpserver)
    source = make_source(httpserver)
    raw = source.fetch(resolve_asset("bitcoin"), "4h", start=pd.Timestamp("2025-06-01", tz="UTC"))
    pd.testing.assert_frame_equal(
        raw, shared_candles("bitcoin", "4h").loc["2025-06-01":], check_freq=False
    )


def test_page_limit_is_checked() -> None:
    with pytest.raises(DataError, match="page_limit must be between 1 and 1000.*got 5000"):
        BinanceSource(page_limit=5000)


def test_http_options_have_the_source_defaults_and_unknown_ones_are_refused() -> None:
    source = BinanceSource(timeout=3.0)
    assert source.fetcher.timeout == 3.0
    assert source.fetcher.rate_limiter is not None
    assert source.fetcher.rate_limiter.calls_per_minute == 600.0
    assert BinanceSource().fetcher.timeout == 15.0
    assert BinanceSource(calls_per_minute=None).fetcher.rate_limiter is None
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['timeot'\]"):
        BinanceSource(timeot=3.0)  # type: ignore[call-arg]
