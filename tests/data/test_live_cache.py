"""load_ohlcv(source="binance"/"coingecko") through the incremental cache, against local servers.

Every failure must leave the cached Parquet file byte-identical and still usable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.assets import resolve_asset
from cryptoforecast.data import CandleCache, load_ohlcv
from cryptoforecast.data.live import make_source, refresh_series
from cryptoforecast.data.sources.pacing import RetryPolicy
from cryptoforecast.exceptions import DataError
from tests.live_servers import (
    BINANCE_KLINES_PATH,
    BinanceFake,
    delay_next,
    fail_next,
    install_binance,
    install_coingecko,
    klines_rows,
    respond_next,
    shared_candles,
    use_binance_server,
)

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=1.0, jitter=0.0, total_timeout=5.0)


async def no_sleep(seconds: float) -> None:
    return None


def fast_options(**extra: Any) -> dict[str, Any]:
    return {"retry": FAST, "calls_per_minute": None, "sleep": no_sleep, **extra}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_refresh_gets_full_history_and_second_makes_one_small_request(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = use_binance_server(httpserver, monkeypatch)
    df = load_ohlcv("ethereum", source="binance", refresh=True)
    pd.testing.assert_frame_equal(df, load_ohlcv("ethereum"), check_like=True, check_freq=False)
    assert df.attrs["source"] == "binance"
    pages = len(fake.requests)
    assert pages == 3
    path = CandleCache().path("binance", "ethereum", "1d")
    before = digest(path)

    again = load_ohlcv("ethereum", source="binance", refresh=True)
    assert len(fake.requests) == pages + 1  # exactly one more request...
    last = fake.requests[-1]
    assert int(last["startTime"]) == df.index[-1].value // 10**6  # ...from the last cached candle
    pd.testing.assert_frame_equal(again, df)
    assert digest(path) == before  # nothing new: the file is not rewritten

    cached = load_ohlcv("ethereum", source="binance", days=10)  # no refresh: no request at all
    assert len(fake.requests) == pages + 1
    pd.testing.assert_frame_equal(cached, df.iloc[-10:])


def test_refresh_appends_only_the_new_candles(httpserver: HTTPServer) -> None:
    fake = install_binance(httpserver)
    fake.set_candles("ethereum", "1d", shared_candles("ethereum", end="2025-06-30"))
    opts = {"base_url": fake.base_url}
    old = load_ohlcv("ethereum", source="binance", refresh=True, **opts)
    assert old.index[-1] == pd.Timestamp("2025-06-30", tz="UTC")
    fake.set_candles("ethereum", "1d", shared_candles("ethereum"))  # three months pass
    n = len(fake.requests)
    result = refresh_series(resolve_asset("ethereum"), "1d", "binance", **opts)
    assert result.added == 92 and result.requests == 1 and result.written
    assert fake.requests[n]["startTime"] == str(old.index[-1].value // 10**6)
    pd.testing.assert_frame_equal(result.frame, shared_candles("ethereum"), check_freq=False)
    pd.testing.assert_frame_equal(
        load_ohlcv("ethereum", source="binance", **opts),
        load_ohlcv("ethereum"),
        check_like=True,
        check_freq=False,
    )


def test_4h_live_series_keep_outages_unless_asked(httpserver: HTTPServer) -> None:
    fake = install_binance(httpserver)
    frame = shared_candles("bitcoin", "4h")
    gap_at = frame.index.to_series().diff().idxmax()  # a real exchange outage in the shared data
    fake.set_candles(
        "bitcoin", "4h", frame.loc[gap_at - pd.Timedelta(days=30) : gap_at + pd.Timedelta(days=30)]
    )
    df = load_ohlcv(
        "bitcoin", interval="4h", source="binance", refresh=True, base_url=fake.base_url
    )
    assert gap_at in df.index
    with pytest.raises(DataError, match="missing 4h candles"):
        load_ohlcv("bitcoin", interval="4h", source="binance", on_gap="raise")
    filled = load_ohlcv("bitcoin", interval="4h", source="binance", on_gap="ffill")
    assert len(filled) > len(df)


def _bad_number(server: HTTPServer, fake: BinanceFake) -> None:
    rows = klines_rows(shared_candles("ethereum").loc["2025-06-30":"2025-07-10"], "1d")
    rows[4][2] = "n/a"
    respond_next(server, BINANCE_KLINES_PATH, json.dumps(rows))


def _bad_ohlc(server: HTTPServer, fake: BinanceFake) -> None:
    frame = shared_candles("ethereum").copy()
    frame.loc["2025-07-04", "high"] = frame.loc["2025-07-04", "low"] / 2
    fake.set_candles("ethereum", "1d", frame)


def _changed_history(server: HTTPServer, fake: BinanceFake) -> None:
    frame = shared_candles("ethereum").copy()
    frame.loc["2025-06-30", ["close", "high"]] *= 1.5  # another endpoint's prices
    fake.set_candles("ethereum", "1d", frame)


def _halfway(server: HTTPServer, fake: BinanceFake) -> None:
    fake.fail_after = len(fake.requests) + 1  # the first new page works, the second never does


FAILURES: dict[str, tuple[Callable[[HTTPServer, BinanceFake], None], str, dict[str, Any]]] = {
    "500 forever": (
        lambda s, f: fail_next(s, BINANCE_KLINES_PATH, 500, times=3),
        r"failed after 3 attempt",
        {},
    ),
    "429 asks too long": (
        lambda s, f: fail_next(s, BINANCE_KLINES_PATH, 429, retry_after=600),
        r"asked to wait 600 s",
        {},
    ),
    "timeout": (
        lambda s, f: [delay_next(s, BINANCE_KLINES_PATH, 0.35) for _ in range(2)],
        r"timed out after 0.1 s",
        {"timeout": 0.1, "retry": RetryPolicy(max_attempts=2, base_delay=0.001, jitter=0)},
    ),
    "truncated json": (
        lambda s, f: respond_next(s, BINANCE_KLINES_PATH, '[[1751241600000,"2485.1","2510.0"'),
        r"not valid JSON",
        {},
    ),
    "string for a number": (
        _bad_number,
        r"kline #4 \(2025-07-04.*field 'high' \(index 2\) = 'n/a'",
        {},
    ),
    "unknown symbol": (
        lambda s, f: f.symbols.discard("ETHUSDT"),
        r"code -1121: Invalid symbol",
        {},
    ),
    "451": (lambda s, f: fail_next(s, BINANCE_KLINES_PATH, 451), r"HTTP 451.*api\.binance\.us", {}),
    "high below low": (_bad_ohlc, r"high < max\(open, close\) at 2025-07-04", {}),
    "history changed": (_changed_history, r"last cached candle \(2025-06-30.*another endpoint", {}),
    "fails halfway": (_halfway, r"failed after 3 attempt\(s\): HTTP 500", {"page_limit": 50}),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failed_refresh_leaves_the_cache_byte_identical(
    httpserver: HTTPServer, case: str
) -> None:
    fake = install_binance(httpserver)
    fake.set_candles("ethereum", "1d", shared_candles("ethereum", end="2025-06-30"))
    opts = fast_options(base_url=fake.base_url)
    old = load_ohlcv("ethereum", source="binance", refresh=True, **opts)
    path = CandleCache().path("binance", "ethereum", "1d")
    before = digest(path)
    files_before = sorted(p.name for p in path.parent.iterdir())

    fake.set_candles("ethereum", "1d", shared_candles("ethereum"))  # new candles are available
    inject, pattern, extra = FAILURES[case]
    inject(httpserver, fake)
    with pytest.raises(DataError, match=pattern):
        load_ohlcv("ethereum", source="binance", refresh=True, **{**opts, **extra})

    assert digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == files_before  # no temp files left
    still = load_ohlcv("ethereum", source="binance")  # the previous cache is intact and usable
    pd.testing.assert_frame_equal(still, old)


def test_full_rebuild_replaces_a_cache_from_another_endpoint(httpserver: HTTPServer) -> None:
    fake = install_binance(httpserver)
    fake.set_candles("ethereum", "1d", shared_candles("ethereum", end="2025-06-30"))
    load_ohlcv("ethereum", source="binance", refresh=True, base_url=fake.base_url)
    _changed_history(httpserver, fake)
    with pytest.raises(DataError, match="full=True"):
        load_ohlcv("ethereum", source="binance", refresh=True, base_url=fake.base_url)
    df = load_ohlcv("ethereum", source="binance", full=True, base_url=fake.base_url)
    assert df.loc["2025-06-30", "close"] == pytest.approx(
        shared_candles("ethereum").loc["2025-06-30", "close"] * 1.5
    )
    assert df.index[-1] == pd.Timestamp("2025-09-30", tz="UTC")


def test_coingecko_through_the_cache(httpserver: HTTPServer) -> None:
    fake = install_coingecko(httpserver)
    now = {"t": pd.Timestamp("2025-08-15 09:00", tz="UTC")}
    opts = fast_options(base_url=fake.base_url, now=lambda: now["t"])
    first = load_ohlcv("bitcoin", source="coingecko", refresh=True, **opts)
    assert list(first.columns) == ["close", "volume", "market_cap"]
    assert first.index[-1] == pd.Timestamp("2025-08-14", tz="UTC")
    now["t"] = pd.Timestamp("2025-10-01 09:00", tz="UTC")
    n = len(fake.requests)
    second = load_ohlcv("bitcoin", source="coingecko", refresh=True, **opts)
    assert len(fake.requests) == n + 1
    assert second.index[-1] == pd.Timestamp("2025-09-30", tz="UTC")
    assert len(second) == len(first) + 47
    pd.testing.assert_frame_equal(second.loc[: first.index[-1]], first)
    assert second.index.to_series().diff().dropna().eq(pd.Timedelta(days=1)).all()


def test_coingecko_bad_payload_leaves_cache_untouched(httpserver: HTTPServer) -> None:
    from tests.live_servers import COINGECKO_CHART_RE

    fake = install_coingecko(httpserver)
    opts = fast_options(
        base_url=fake.base_url, now=lambda: pd.Timestamp("2025-10-01 09:00", tz="UTC")
    )
    load_ohlcv("bitcoin", source="coingecko", refresh=True, **opts)
    path = CandleCache().path("coingecko", "bitcoin", "1d")
    before = digest(path)
    respond_next(
        httpserver,
        COINGECKO_CHART_RE,
        json.dumps({"prices": [[0, "x"]], "market_caps": [], "total_volumes": []}),
    )
    with pytest.raises(DataError, match=r"prices\[0\] .* value = 'x'"):
        load_ohlcv("bitcoin", source="coingecko", refresh=True, **opts)
    assert digest(path) == before


def test_unknown_source_option_is_a_clear_error() -> None:
    with pytest.raises(
        DataError,
        match=r"unknown option\(s\) \['base_ur'\] for source='binance'; accepted: base_url",
    ):
        load_ohlcv("bitcoin", source="binance", base_ur="http://127.0.0.1:1")
    with pytest.raises(DataError, match="unknown live source 'kraken'"):
        make_source("kraken")


def test_an_injected_client_is_used(httpserver: HTTPServer) -> None:
    import asyncio

    import httpx

    from cryptoforecast.data.sources.binance import BinanceSource

    fake = install_binance(httpserver)
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async def main() -> pd.DataFrame:
        async with httpx.AsyncClient(event_hooks={"request": [hook]}) as client:
            src = BinanceSource(base_url=fake.base_url, client=client, calls_per_minute=None)
            return await src.afetch(
                resolve_asset("solana"), "1d", start=pd.Timestamp("2025-09-01", tz="UTC")
            )

    frame = asyncio.run(main())
    assert len(frame) == 30 and seen == ["/api/v3/klines"]
