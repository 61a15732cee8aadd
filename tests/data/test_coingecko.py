"""CoinGeckoSource against a local server speaking the CoinGecko v3 format (no network)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.assets import resolve_asset
from cryptoforecast.data import validate_candles
from cryptoforecast.data.sources.coingecko import (
    PRO_COINGECKO_URL,
    PUBLIC_COINGECKO_URL,
    CoinGeckoSource,
)
from cryptoforecast.data.sources.coingecko_payloads import parse_market_chart
from cryptoforecast.data.sources.pacing import RetryPolicy
from cryptoforecast.exceptions import DataError, SourceError
from tests.live_servers import (
    COINGECKO_CHART_RE,
    fail_next,
    install_coingecko,
    respond_next,
    shared_candles,
)

BTC = resolve_asset("bitcoin")
NOW = pd.Timestamp("2025-10-01 13:37", tz="UTC")  # the shared data ends 2025-09-30
SECRET = "CG-s3cr3t-key-0123456789"


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_source(server: HTTPServer, **kwargs) -> CoinGeckoSource:  # type: ignore[no-untyped-def]
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.01, jitter=0.0))
    kwargs.setdefault("sleep", SleepRecorder())
    return CoinGeckoSource(
        base_url=server.url_for("/api/v3"), calls_per_minute=None, now=lambda: NOW, **kwargs
    )


def test_daily_history_has_close_volume_market_cap_only(httpserver: HTTPServer) -> None:
    fake = install_coingecko(httpserver)
    raw = make_source(httpserver).fetch(BTC, "1d")
    assert list(raw.columns) == ["close", "volume", "market_cap"]
    assert raw.index[-1] == pd.Timestamp("2025-09-30", tz="UTC")  # "now" point dropped
    assert len(raw) == 365  # default history for the free plans
    binance = shared_candles("bitcoin")
    # The point at D+1 00:00 is the close of day D: the same close as the exchange candle of D.
    np.testing.assert_allclose(raw["close"], binance.loc[raw.index, "close"])
    clean = validate_candles(raw, "1d")  # accepted without open/high/low
    assert "open" not in clean.columns
    (request,) = fake.requests
    assert request["vs_currency"] == "usd"
    assert int(request["to"]) == int(NOW.timestamp())


def test_trailing_now_point_is_served_and_dropped(httpserver: HTTPServer) -> None:
    install_coingecko(httpserver)
    source = make_source(httpserver)
    url = httpserver.url_for("/api/v3/coins/bitcoin/market_chart/range")
    import httpx

    to = int(NOW.timestamp())
    payload = httpx.get(
        url, params={"vs_currency": "usd", "from": to - 200 * 86400, "to": to}
    ).json()
    assert payload["prices"][-1][0] == to * 1000  # the server does send a point stamped "now"
    frame = source.fetch(BTC, "1d", start=pd.Timestamp("2025-09-01", tz="UTC"))
    assert frame.index[-1] == pd.Timestamp("2025-09-30", tz="UTC")
    assert frame.index[0] == pd.Timestamp("2025-09-01", tz="UTC") and len(frame) == 30


def test_short_ranges_still_ask_for_more_than_90_days(httpserver: HTTPServer) -> None:
    fake = install_coingecko(httpserver)
    frame = make_source(httpserver).fetch(BTC, "1d", start=pd.Timestamp("2025-09-28", tz="UTC"))
    assert list(frame.index.strftime("%m-%d")) == ["09-28", "09-29", "09-30"]
    req = fake.requests[-1]
    assert int(req["to"]) - int(req["from"]) > 90 * 86400  # else CoinGecko answers hourly points


def test_hourly_points_are_refused(httpserver: HTTPServer) -> None:
    install_coingecko(httpserver)
    import httpx

    to = int(NOW.timestamp())
    url = httpserver.url_for("/api/v3/coins/bitcoin/market_chart/range")
    payload = httpx.get(
        url, params={"vs_currency": "usd", "from": to - 10 * 86400, "to": to}
    ).json()
    with pytest.raises(
        SourceError, match=r"prices\[0\] at .* is not at 00:00 UTC; daily points need"
    ):
        parse_market_chart(payload, "CoinGecko bitcoin 1d")


@pytest.mark.parametrize("plan", ["demo", "pro"])
def test_api_key_goes_in_the_plan_header(httpserver: HTTPServer, plan: str) -> None:
    fake = install_coingecko(httpserver, api_key=SECRET, plan=plan)
    frame = make_source(httpserver, api_key=SECRET, plan=plan).fetch(BTC, "1d")
    # Free plans reach back 365 days; a pro key downloads up to ten years.
    assert len(frame) == (365 if plan == "demo" else len(shared_candles("bitcoin")))
    headers = {k.lower(): v for k, v in fake.requests[-1]["headers"].items()}
    assert headers[f"x-cg-{plan}-api-key"] == SECRET
    other = "pro" if plan == "demo" else "demo"
    assert f"x-cg-{other}-api-key" not in headers
    assert all(
        SECRET not in v for k, v in fake.requests[-1].items() if k != "headers"
    )  # not in the URL


def test_base_url_follows_plan_key_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CoinGeckoSource().base_url == PUBLIC_COINGECKO_URL
    assert CoinGeckoSource(api_key="k", plan="demo").base_url == PUBLIC_COINGECKO_URL
    assert CoinGeckoSource(api_key="k", plan="pro").base_url == PRO_COINGECKO_URL
    source = CoinGeckoSource()  # the environment is read at call time, not at construction
    monkeypatch.setenv("CRYPTOFORECAST_COINGECKO_API_KEY", "env-key")
    monkeypatch.setenv("CRYPTOFORECAST_COINGECKO_PLAN", "pro")
    assert source.base_url == PRO_COINGECKO_URL
    assert source.headers()["x-cg-pro-api-key"] == "env-key"
    monkeypatch.setenv("CRYPTOFORECAST_COINGECKO_URL", "http://127.0.0.1:1/api/v3/")
    assert source.base_url == "http://127.0.0.1:1/api/v3"
    monkeypatch.setenv("CRYPTOFORECAST_COINGECKO_PLAN", "enterprise")
    with pytest.raises(DataError, match="plan must be 'demo' or 'pro', got 'enterprise'"):
        source.headers()


def test_api_key_never_appears_in_errors_or_logs(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    install_coingecko(httpserver, api_key="the-right-key")
    caplog.set_level(logging.DEBUG)  # everything: ours, httpx, httpcore
    source = make_source(httpserver, api_key=SECRET)
    with pytest.raises(SourceError) as refused:
        source.fetch(BTC, "1d")
    assert "HTTP 401" in str(refused.value) and "API Key Missing or invalid" in str(refused.value)
    fail_next(httpserver, COINGECKO_CHART_RE, status=500, times=4, body={"error": f"echo {SECRET}"})
    with pytest.raises(SourceError) as exhausted:
        make_source(httpserver, api_key=SECRET).fetch(BTC, "1d")
    respond_next(
        httpserver, COINGECKO_CHART_RE, json.dumps({"error": f"bad key {SECRET}"}), status=400
    )
    with pytest.raises(SourceError) as echoed:
        make_source(httpserver, api_key=SECRET).fetch(BTC, "1d")
    assert "***" in str(echoed.value)  # a server that echoes the key gets it masked
    for exc in (refused, exhausted, echoed):
        assert SECRET not in str(exc.value)
        assert SECRET not in repr(exc.value)
    assert "attempt 1/4" in caplog.text  # the retries were logged...
    assert SECRET not in caplog.text  # ...without the key
    assert SECRET not in repr(source)


def test_resolve_ids_and_symbols_from_the_catalogue(httpserver: HTTPServer) -> None:
    fake = install_coingecko(httpserver)
    source = make_source(httpserver)
    assert source.resolve_id("bitcoin") == "bitcoin"
    assert source.resolve_id("BTC") == "bitcoin"
    assert (
        source.resolve_id("eth") == "ethereum"
    )  # shared with ethereum-wormhole: the known one wins
    assert source.resolve_id("ethereum-wormhole") == "ethereum-wormhole"
    with pytest.raises(
        DataError, match=r"no coin with id or symbol 'bitcoinn'.*Did you mean: bitcoin"
    ):
        source.resolve_id("bitcoinn")
    assert sum(r["path"].endswith("/coins/list") for r in fake.requests) == 1  # fetched once
    frame = source.fetch("LTC", "1d", start=pd.Timestamp("2025-09-29", tz="UTC"))
    assert fake.requests[-1]["path"] == "/api/v3/coins/litecoin/market_chart/range"
    assert len(frame) == 2


def test_ambiguous_unknown_symbol_lists_the_candidates(httpserver: HTTPServer) -> None:
    fake = install_coingecko(httpserver)
    fake.extra_catalogue += [
        {"id": "foo-a", "symbol": "foo", "name": "A"},
        {"id": "foo-b", "symbol": "foo", "name": "B"},
    ]
    with pytest.raises(DataError, match=r"symbol 'FOO' is shared by 2 coins \(foo-a, foo-b\)"):
        make_source(httpserver).resolve_id("FOO")


def test_only_daily_interval() -> None:
    with pytest.raises(DataError, match=r"daily closes only, got interval='4h'.*source='binance'"):
        CoinGeckoSource().fetch(BTC, "4h")


def test_unknown_coin_is_a_clear_error(httpserver: HTTPServer) -> None:
    install_coingecko(httpserver)
    source = make_source(httpserver)
    with pytest.raises(DataError, match=r"HTTP 404: coin not found\. Check the CoinGecko id"):
        source.fetch(resolve_asset("ripple"), "1d")
    assert source.requests_sent == 1


def test_429_retry_after_then_success(httpserver: HTTPServer) -> None:
    install_coingecko(httpserver)
    fail_next(
        httpserver,
        COINGECKO_CHART_RE,
        status=429,
        retry_after=2,
        body={"status": {"error_code": 429}},
    )
    sleep = SleepRecorder()
    frame = make_source(httpserver, sleep=sleep).fetch(BTC, "1d")
    assert len(frame) == 365 and sleep.calls == [2.0]


def _payload(days: int = 3) -> dict[str, list[list[float]]]:
    start = pd.Timestamp("2025-01-01", tz="UTC").value // 10**6
    times = [start + i * 86_400_000 for i in range(days)]
    return {
        "prices": [[t, 100.0 + i] for i, t in enumerate(times)],
        "market_caps": [[t, 1e9] for t in times],
        "total_volumes": [[t, 5e6] for t in times],
    }


def test_parse_market_chart_shifts_points_to_candle_open_times() -> None:
    frame = parse_market_chart(_payload(), "t")
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2024-12-31", "2025-01-01", "2025-01-02"]
    assert frame["close"].tolist() == [100.0, 101.0, 102.0]


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (
            lambda p: p["prices"][1].__setitem__(1, "101.0"),
            r"prices\[1\] \(2025-01-02T00:00:00\+00:00\) value = '101.0' is not a finite number",
        ),
        (
            lambda p: p["total_volumes"][2].__setitem__(1, None),
            r"total_volumes\[2\] .* value = None",
        ),
        (lambda p: p.pop("market_caps"), r"has no list \['market_caps'\]"),
        (lambda p: p["prices"].__setitem__(0, [1, 2, 3]), r"prices\[0\] should be \[ms, value\]"),
        (
            lambda p: p["market_caps"].pop(1),
            r"market_caps and prices disagree on the times at position 1",
        ),
        (lambda p: p["prices"].reverse(), r"prices\[1\] time .* is not after the previous point"),
    ],
)
def test_bad_chart_payloads_name_field_and_position(mutate, pattern: str) -> None:  # type: ignore[no-untyped-def]
    payload = _payload()
    mutate(payload)
    with pytest.raises(SourceError, match=pattern):
        parse_market_chart(payload, "CoinGecko bitcoin 1d")


def test_null_market_cap_is_allowed() -> None:
    payload = _payload()
    payload["market_caps"][0][1] = None  # type: ignore[call-overload]
    frame = parse_market_chart(payload, "t")
    assert np.isnan(frame["market_cap"].iloc[0]) and frame["close"].notna().all()


def test_http_option_defaults_are_the_free_tiers() -> None:
    source = CoinGeckoSource()
    assert source.fetcher.timeout == 20.0
    assert source.fetcher.rate_limiter is not None
    assert source.fetcher.rate_limiter.calls_per_minute == 30.0
    assert source.fetcher.rate_limiter.burst == 5
