"""The refresher warms the serving state: when a run brings a new candle for a served coin, the
service computes what its forecasts read for the configured horizons, so the first request
after the candle fits nothing (no features, no ``garch_ref`` fit, no technical-analysis fit) and
answers what a fresh predictor answers. A run that brings nothing new warms nothing; a warm-up
that fails is logged (without secrets) and never fails the run. A local Binance-format server;
no network."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.config import load_config
from cryptoforecast.data import CandleCache
from cryptoforecast.exceptions import DataError
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.refresher import CandleRefresher
from cryptoforecast.serving.service import build_background
from cryptoforecast.serving.state import ServingState

from ..live_servers import BinanceFake, shared_candles, use_binance_server
from .conftest import FakeClock
from .test_serving_state import fits, numbers

__all__ = ["fits"]  # the fit counters' fixture, used here by name

SECRET = "hunter2-warm"


def publish(fake: BinanceFake, day: str) -> None:
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end=day))


def live_predictor(registry: Any, clock: FakeClock, directory: Path | None) -> Predictor:
    state = ServingState(directory=directory) if directory is not None else ServingState()
    return Predictor(
        registry=registry, source="binance", clock=clock, cache_ttl=0, record=False, state=state
    )


def service_refresher(predictor: Predictor) -> CandleRefresher:
    """The refresher of a service answering from ``predictor``, wired as ``serve`` wires it,
    once bitcoin is served (a request put its candles in the cache, up to 2025-09-28)."""
    predictor.predict("bitcoin", 7)
    background = build_background(load_config(), predictor, cache=CandleCache())
    assert background.refresher is not None
    assert background.refresher.series() == ["bitcoin"]
    return background.refresher


@pytest.fixture
def fake(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> BinanceFake:
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    publish(fake, "2025-09-28")
    return fake


@pytest.mark.parametrize("with_model", [False, True], ids=["fallback", "production model"])
def test_the_first_request_after_a_new_candle_fits_nothing(
    registry: Any,
    clock: FakeClock,
    fake: BinanceFake,
    fits: Counter[str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    with_model: bool,
) -> None:
    if with_model:
        request.getfixturevalue("btc_model")
    predictor = live_predictor(registry, clock, tmp_path / "state")
    refresher = service_refresher(predictor)

    publish(fake, "2025-09-29")
    run = refresher.refresh_once()
    assert run.ok and run.added["bitcoin"] == 1
    assert run.notes["warmed"] == ["bitcoin"]

    horizons = load_config().horizons
    fits.clear()
    served = {h: predictor.predict("bitcoin", h) for h in horizons}
    assert fits == {}, "the first request after the new candle fitted something"
    assert all(f.as_of == pd.Timestamp("2025-09-29", tz="UTC") for f in served.values())
    # the production model is bitcoin's h=1 one; every other horizon is the fallback's
    sources = {h: f.source for h, f in served.items()}
    fallback = "technical_analysis_fallback"
    assert sources == {h: "model" if with_model and h == 1 else fallback for h in horizons}

    # the numbers a fresh predictor (no state at all) computes from the same candles
    fresh = live_predictor(registry, clock, None)
    for h, forecast in served.items():
        assert numbers(forecast) == numbers(fresh.predict("bitcoin", h))


def test_a_restarted_process_reads_the_warmed_state_from_disk(
    registry: Any, clock: FakeClock, fake: BinanceFake, fits: Counter[str], tmp_path: Path
) -> None:
    refresher = service_refresher(live_predictor(registry, clock, tmp_path / "state"))
    publish(fake, "2025-09-29")
    assert refresher.refresh_once().notes["warmed"] == ["bitcoin"]
    assert list((tmp_path / "state").rglob("bitcoin_1d.json"))

    fits.clear()
    restarted = live_predictor(registry, clock, tmp_path / "state")
    restarted.predict("bitcoin", 7)
    # what the disk keeps (the baselines and the technical forecast) is not computed again
    assert "technical" not in fits


def test_a_refresh_that_brings_nothing_new_warms_nothing(
    registry: Any,
    clock: FakeClock,
    fake: BinanceFake,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    predictor = live_predictor(registry, clock, tmp_path / "state")
    refresher = service_refresher(predictor)
    assert refresher.refresh_once().ok
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(predictor, "warm", lambda cid, horizons: calls.append((cid, horizons)))

    nothing = refresher.refresh_once()
    assert nothing.ok and set(nothing.added.values()) == {0}
    assert calls == [] and "warmed" not in nothing.notes

    publish(fake, "2025-09-29")
    assert refresher.refresh_once().added["bitcoin"] == 1
    assert calls == [("bitcoin", load_config().horizons)]


def test_a_failed_warm_up_is_logged_and_never_fails_the_refresh(
    registry: Any,
    clock: FakeClock,
    fake: BinanceFake,
    fits: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    predictor = live_predictor(registry, clock, tmp_path / "state")
    refresher = service_refresher(predictor)
    assert refresher.refresh_once().ok

    def broken(crypto_id: str, horizons: Any) -> None:
        raise DataError(f"cannot warm {crypto_id}: postgresql://cf:{SECRET}@db.internal/cf")

    monkeypatch.setattr(predictor, "warm", broken)
    publish(fake, "2025-09-29")
    with caplog.at_level(logging.WARNING, logger="cryptoforecast.serving.refresher"):
        run = refresher.refresh_once()
    assert run.ok and run.added["bitcoin"] == 1
    assert refresher.last_success_at == run.finished_at and refresher.failures == 0
    assert "warmed" not in run.notes
    (reason,) = run.notes["warm_errors"].values()
    assert "DataError" in reason and "postgresql" not in reason and SECRET not in reason
    assert "warming the serving state of bitcoin failed" in caplog.text
    assert "DataError" in caplog.text and SECRET not in caplog.text

    # the first request computes what it needs, as without the warm-up
    fits.clear()
    forecast = predictor.predict("bitcoin", 7)
    assert forecast.as_of == pd.Timestamp("2025-09-29", tz="UTC")
    assert fits == {"features": 1, "garch_ref": 1, "technical": 1}
