"""The refresher keeps each served coin's 4h candles beside its daily ones where the source has
them, and the forecast reads what it keeps: a distribution version fitted on 4h candles serves
from them, hands over to the labelled fallback while they stop before the daily close (a 4h
fetch that failed), and serves again once they are refreshed. CoinGecko (daily closes only) is
asked for nothing more. Local Binance- and CoinGecko-format servers; no network."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.data import CandleCache, load_ohlcv
from cryptoforecast.models.distribution import DistributionForecaster, MarketData
from cryptoforecast.registry import DISTRIBUTION
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.refresher import CandleRefresher

from ..live_servers import (
    BINANCE_KLINES_PATH,
    fail_next,
    shared_candles,
    use_binance_server,
    use_coingecko_server,
)
from .conftest import TRAIN_END, FakeClock

H = 7


@pytest.fixture(scope="module")
def har_btc_4h() -> DistributionForecaster:
    """har_rv for bitcoin h=7 fitted on daily and 4h candles up to TRAIN_END only."""
    daily = load_ohlcv("bitcoin", end=TRAIN_END)
    bars = load_ohlcv("bitcoin", interval="4h", end=f"{TRAIN_END} 20:00")
    return DistributionForecaster("har_rv", horizon=H).fit(MarketData(daily, bars))


def publish(fake: Any, day: str) -> None:
    """The exchange's candles up to the close of ``day``: daily and 4h."""
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end=day))
    fake.set_candles("bitcoin", "4h", shared_candles("bitcoin", "4h", end=f"{day} 20:00"))


def test_the_refresher_keeps_4h_beside_1d_and_the_forecast_reads_them(
    registry: Any,
    clock: FakeClock,
    har_btc_4h: DistributionForecaster,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model_id = registry.register_with_decision(
        har_btc_4h.save, DISTRIBUTION, "bitcoin", H, passed=True, gate_reason="test",
        config={"distribution": "har_rv"},
    )  # fmt: skip
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    publish(fake, "2025-09-28")
    refresher = CandleRefresher("binance", "1d", tracked=lambda: ["bitcoin"])
    first = refresher.refresh_once()
    assert first.ok and set(first.added) == {"bitcoin", "bitcoin 4h"}
    pred = Predictor(registry=registry, source="binance", clock=clock, record=False)
    f = pred.predict("bitcoin", H)
    assert f.as_of == pd.Timestamp("2025-09-28", tz="UTC")
    assert f.distribution_model_id == model_id, f.distribution_reason

    # the next day: the 4h fetch fails, the daily one does not
    publish(fake, "2025-09-29")
    fail_next(httpserver, BINANCE_KLINES_PATH, status=400, body={"code": -1100, "msg": "bad"})
    failed = refresher.refresh_once()
    assert set(failed.errors) == {"bitcoin 4h"} and failed.added == {"bitcoin": 1}
    g = pred.predict("bitcoin", H)
    assert g.as_of == pd.Timestamp("2025-09-29", tz="UTC") and g.distribution_model_id is None
    assert g.distribution_reason is not None and "do not reach" in g.distribution_reason
    assert g.distribution_source == f"garch_ref (fallback: {g.distribution_reason})"

    # the next run fetches them: the version serves again, nothing stale kept
    again = refresher.refresh_once()
    assert again.ok and again.added == {"bitcoin 4h": 6, "bitcoin": 0}
    h = pred.predict("bitcoin", H)
    assert h.cached is False and h.distribution_model_id == model_id
    bars = CandleCache().read("binance", "bitcoin", "4h")
    assert bars is not None and bars.index[-1] == pd.Timestamp("2025-09-29 20:00", tz="UTC")


def test_a_coingecko_refresher_fetches_no_4h_candles(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = use_coingecko_server(httpserver, monkeypatch, ids=["bitcoin"])
    now = pd.Timestamp("2025-10-01 13:37", tz="UTC")
    refresher = CandleRefresher(
        "coingecko", "1d", tracked=lambda: ["bitcoin"], now=lambda: now, calls_per_minute=None
    )
    run = refresher.refresh_once()
    assert run.ok and set(run.added) == {"bitcoin"}
    assert fake.requests and all("4h" not in str(r) for r in fake.requests)
    assert CandleCache().entries() == [("coingecko", "bitcoin", "1d")]
