"""A running server keeps its candles fresh: a real uvicorn server on 127.0.0.1 against a local
Binance-format server picks up a candle published after it started, without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.config import load_config
from cryptoforecast.serving.service import create_service

from ..live_servers import BinanceFake, shared_candles, use_binance_server
from .conftest import Trained, running_server
from .test_refresher import OffsetClock

DELAY, JITTER = 1.0, 0.5
#: the last candle served at start opens on 09-29; the next one (09-30) closes on 10-01 00:00
NEXT_CLOSE = datetime(2025, 10, 1, tzinfo=UTC)
LEAD = 15.0  # seconds between the server's start and that close, on the service's clock


@pytest.fixture
def live_server(
    registry: Any, btc_model: Trained, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, BinanceFake, OffsetClock, Any]]:
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-29"))
    clock = OffsetClock(NEXT_CLOSE - timedelta(seconds=LEAD))
    settings = load_config(
        overrides={"serving": {"refresh": {"delay_seconds": DELAY, "jitter_seconds": JITTER}}}
    )
    app = create_service(settings, source="binance", registry=registry, clock=clock)
    with running_server(app) as url:
        yield url, fake, clock, app.state.background.refresher
    assert not app.state.background.leader  # the lock was released at shutdown


@pytest.mark.slow
def test_server_picks_up_a_candle_published_after_it_started(
    live_server: tuple[str, BinanceFake, OffsetClock, Any],
) -> None:
    url, fake, clock, refresher = live_server
    deadline = time.monotonic() + LEAD
    while refresher.runs < 1:  # the first refresh, at start-up, downloads the history
        assert time.monotonic() < deadline, "the refresher did not run at start-up"
        time.sleep(0.05)
    with httpx.Client(base_url=url, timeout=30) as client:
        first = client.get("/v1/forecast/bitcoin").json()
        assert clock() < NEXT_CLOSE, "the machine was too slow to publish before the close"
        assert first["as_of"].startswith("2025-09-29") and first["stale"] is False
        # the exchange publishes the 09-30 candle: it closes at NEXT_CLOSE on the service's clock
        fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-30"))
        assert client.get("/v1/forecast/bitcoin").json()["as_of"] == first["as_of"]
        moved_at = None
        deadline = time.monotonic() + LEAD + DELAY + JITTER + 20
        while time.monotonic() < deadline:
            now = clock()
            forecast = client.get("/v1/forecast/bitcoin").json()
            if forecast["as_of"] != first["as_of"]:
                moved_at = now
                break
            time.sleep(0.1)
        assert moved_at is not None, "the server never picked up the new candle"
        assert forecast["as_of"].startswith("2025-09-30") and forecast["cached"] is False
        assert forecast["stale"] is False
        # not before the candle closed plus the delay, and within delay + jitter (+ the fetch)
        lag = (moved_at - NEXT_CLOSE).total_seconds()
        assert DELAY - 0.2 <= lag <= DELAY + JITTER + 5.0, lag
        health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["data"]["bitcoin"]["last_candle"].startswith("2025-09-30")
    refresher = health["background"]["leader"]["refresher"]
    assert refresher["runs"] >= 2 and refresher["failures"] == 0
    assert refresher["last_run"]["added"] == {"bitcoin": 1, "bitcoin 4h": 0}  # 4h kept beside
    assert refresher["last_run"]["notes"]["ledger"]["keys"] >= 1  # the ledger was scored
