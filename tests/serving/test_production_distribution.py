"""A distribution is its own registered version: the service serves the production distribution
version of a (coin, horizon) around the served point forecast, whatever point model serves,
names it and why, caches it per version, and hands over to the labelled fallback (never a 500,
never a path) when it cannot serve. A back-dated forecast reads no candle (daily or 4h) after
its origin."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import CandleCache, load_ohlcv
from cryptoforecast.models.distribution import QUANTILES, DistributionForecaster, MarketData
from cryptoforecast.registry import DISTRIBUTION
from cryptoforecast.serving import Predictor, create_app
from cryptoforecast.serving import predictor as predictor_module
from cryptoforecast.serving.distribution import FALLBACK_SCALE, centred, read_distribution
from cryptoforecast.serving.schemas import Forecast
from tests.cli_runner import run

from .conftest import TRAIN_END, FakeClock, SyncASGIClient, fit_model, register

H = 7
NO_VERSION = f"no production distribution for bitcoin h={H}"
#: the numbers a forecast serves (what must not move when only later candles change)
NUMBERS = (
    "predicted_price",
    "predicted_return",
    "direction",
    "intervals",
    "quantiles",
    "p_up",
    "p_up_base_rate",
    "p_move",
    "distribution",
    "distribution_source",
    "distribution_model_id",
    "as_of",
)


@pytest.fixture(scope="module")
def ewma_btc() -> DistributionForecaster:
    """ewma_t for bitcoin h=7, fitted on the snapshot's daily candles."""
    return DistributionForecaster("ewma_t", horizon=H).fit(MarketData(load_ohlcv("bitcoin")))


@pytest.fixture(scope="module")
def gaussian_btc() -> DistributionForecaster:
    """Another scale model for the same key: the 30-day Gaussian, parametric shape."""
    return DistributionForecaster("rolling_gaussian", horizon=H, calibration="none").fit(
        MarketData(load_ohlcv("bitcoin"))
    )


@pytest.fixture(scope="module")
def har_btc_4h() -> DistributionForecaster:
    """har_rv for bitcoin h=7 fitted on daily and 4h candles up to TRAIN_END only."""
    daily = load_ohlcv("bitcoin", end=TRAIN_END)
    bars = load_ohlcv("bitcoin", interval="4h", end=f"{TRAIN_END} 20:00")
    return DistributionForecaster("har_rv", horizon=H).fit(MarketData(daily, bars))


def register_distribution(
    registry: Any, dist: DistributionForecaster, passed: bool = True, reason: str = "test"
) -> int:
    return int(
        registry.register_with_decision(
            dist.save,
            DISTRIBUTION,
            "bitcoin",
            H,
            passed=passed,
            gate_reason=reason,
            config={"distribution": dist.volatility},
        )
    )


def expected_quantiles(
    dist: DistributionForecaster,
    candles: pd.DataFrame,
    point: float,
    intraday: pd.DataFrame | None = None,
) -> dict[float, float]:
    """The price quantiles the stored distribution gives at the last candle around ``point``
    (its shape centred on its median, as a forecast serves it)."""
    location = pd.Series([point], index=candles.index[-1:])
    pred = centred(dist.predict_distribution(MarketData(candles, intraday), location))
    q = pred.quantiles(QUANTILES).loc[candles.index[-1]]
    close = float(candles["close"].iloc[-1])
    return {float(k): close * math.exp(float(v)) for k, v in q.items()}


def check_coherent(f: Forecast) -> None:
    """Median, intervals and probabilities are read off the one distribution served."""
    assert f.distribution is not None and f.quantiles is not None
    again = read_distribution(f.distribution, f.last_close, tuple(f.p_move or ()))
    assert f.quantiles == again.quantiles and f.p_up == again.p_up
    assert f.predicted_price == f.quantiles[0.5]
    assert f.intervals[0.8] == (f.quantiles[0.1], f.quantiles[0.9])
    assert f.predicted_return == pytest.approx(f.distribution.location, abs=1e-15)


def numbers(f: Forecast) -> dict[str, Any]:
    return f.model_dump(include=set(NUMBERS))


def test_the_production_distribution_serves_around_the_served_point_named_and_cached(
    registry: Any,
    clock: FakeClock,
    ewma_btc: DistributionForecaster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # without a version: the technical fallback's point, the garch_ref fallback around it
    without = Predictor(registry=registry, clock=clock, record=False).predict("bitcoin", H)
    assert without.distribution_source == f"garch_ref (fallback: {NO_VERSION})"
    model_id = register_distribution(registry, ewma_btc, reason="beat garch_ref by 1.2%")
    loads: list[int] = []
    real_load = predictor_module.load_distribution_version

    def counting(record: Any) -> Any:
        loads.append(record.model_id)
        return real_load(record)

    monkeypatch.setattr(predictor_module, "load_distribution_version", counting)
    plain = Predictor(registry=registry, clock=clock, record=False, cache_ttl=0)
    cached = Predictor(registry=registry, clock=clock, record=False)

    # no point model in production: the technical fallback's point, the version's distribution
    f = plain.predict("bitcoin", H)
    # (a distribution version never answers as the point model)
    assert f.source == "technical_analysis_fallback" and f.model_id is None
    assert f.fallback_reason == "no production model"
    assert (f.distribution_model_id, f.distribution_version) == (model_id, "1.0.0")
    assert f.distribution_reason == "promotion gate passed: beat garch_ref by 1.2%"
    assert f.distribution_source == (
        f"ewma_t v1.0.0 (distribution model {model_id}, promotion gate passed: beat garch_ref "
        "by 1.2%)"
    )
    assert f.distribution is not None
    assert f.distribution.source == f"ewma_t v1.0.0 (distribution model {model_id})"
    candles = plain.candles("bitcoin")
    expected = expected_quantiles(ewma_btc, candles, f.predicted_return)
    assert f.quantiles is not None and list(f.quantiles) == list(expected)
    np.testing.assert_allclose(list(f.quantiles.values()), list(expected.values()), rtol=1e-12)
    check_coherent(f)
    # located at the served point: what the technical fallback forecasts without a version
    assert without.predicted_return == pytest.approx(f.predicted_return, abs=1e-15)
    assert without.quantiles is not None and without.quantiles[0.05] != pytest.approx(
        f.quantiles[0.05], rel=1e-6
    )

    # loaded (and hash-checked) once per version, whatever the forecast cache says
    assert plain.predict("bitcoin", H).quantiles == f.quantiles
    assert loads == [model_id]
    first = cached.predict("bitcoin", H)
    again = cached.predict("bitcoin", H)
    assert (first.cached, again.cached) == (False, True)
    assert again.distribution_model_id == model_id and again.quantiles == first.quantiles

    # a production point model: its point, the same distribution version around it
    trained = register(registry, fit_model("bitcoin", "drift", H), "bitcoin")
    g = Predictor(registry=registry, clock=clock, record=False).predict("bitcoin", H)
    assert g.source == "model" and g.model_id == trained.model_id
    assert g.distribution_model_id == model_id and g.predicted_return != f.predicted_return
    expected = expected_quantiles(ewma_btc, candles, g.predicted_return)
    assert g.quantiles is not None
    np.testing.assert_allclose(list(g.quantiles.values()), list(expected.values()), rtol=1e-12)
    check_coherent(g)


def test_without_a_production_distribution_the_fallback_serves_and_says_why(
    registry: Any, clock: FakeClock, ewma_btc: DistributionForecaster
) -> None:
    pred = Predictor(registry=registry, clock=clock, record=False, cache_ttl=0)
    f = pred.predict("bitcoin", H)
    assert f.distribution_source == f"garch_ref (fallback: {NO_VERSION})"
    assert f.distribution_reason == NO_VERSION
    assert f.distribution_model_id is None and f.distribution_version is None
    assert f.distribution is not None and f.distribution.source == FALLBACK_SCALE
    check_coherent(f)
    # a version that failed its gate stays in staging: it does not serve
    staged = register_distribution(registry, ewma_btc, passed=False, reason="lost to garch_ref")
    assert registry.get(staged).status == "staging"
    assert pred.predict("bitcoin", H).distribution_source == f.distribution_source
    # nor does a production distribution of another horizon
    assert (
        pred.predict("bitcoin", 1).distribution_reason
        == "no production distribution for bitcoin h=1"
    )


def test_promoting_another_distribution_changes_the_answer_at_once(
    registry: Any,
    clock: FakeClock,
    ewma_btc: DistributionForecaster,
    gaussian_btc: DistributionForecaster,
) -> None:
    pred = Predictor(registry=registry, clock=clock, record=False, cache_ttl=3600)
    first_id = register_distribution(registry, ewma_btc)
    first = pred.predict("bitcoin", H)
    assert first.distribution_model_id == first_id
    assert pred.predict("bitcoin", H).cached is True

    second_id = register_distribution(registry, gaussian_btc, reason="beat ewma_t")
    assert registry.get(first_id).status == "archived"
    second = pred.predict("bitcoin", H)
    assert second.cached is False  # a new version: a new cache key
    assert (second.distribution_model_id, second.distribution_version) == (second_id, "1.1.0")
    assert second.distribution_source is not None
    assert second.distribution_source.startswith("rolling_gaussian v1.1.0 (distribution model")
    assert second.quantiles != first.quantiles
    candles = pred.candles("bitcoin")
    expected = expected_quantiles(gaussian_btc, candles, second.predicted_return)
    assert second.quantiles is not None
    np.testing.assert_allclose(list(second.quantiles.values()), list(expected.values()), rtol=1e-12)

    registry.archive(second_id, "withdrawn")
    third = pred.predict("bitcoin", H)
    assert third.cached is False and third.distribution_model_id is None
    assert third.distribution_source == f"garch_ref (fallback: {NO_VERSION})"


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_damaged_distribution_artifact_degrades_to_the_fallback_labelled_without_a_path(
    registry: Any,
    clock: FakeClock,
    cf_home: Path,
    ewma_btc: DistributionForecaster,
    damage: str,
) -> None:
    model_id = register_distribution(registry, ewma_btc)
    path = registry.get(model_id).artifact_path
    if damage == "changed":
        state = path / "distribution.json"
        state.write_text(state.read_text().replace("0.", "0.5", 1))
    else:
        shutil.rmtree(path)
    app = create_app(load_config(), registry=registry, admin_token=None, clock=clock, retrain=None)
    r = SyncASGIClient(app).get(f"/v1/forecast/bitcoin?horizon={H}")
    assert r.status_code == 200, r.text
    body = r.json()
    why = "integrity check failed" if damage == "changed" else "artifact missing"
    assert body["distribution_reason"] == f"distribution model {model_id}: {why}"
    assert (
        body["distribution_source"] == f"garch_ref (fallback: distribution model {model_id}: {why})"
    )
    assert body["distribution_model_id"] is None and body["quantiles"] is not None
    for secret in (str(cf_home), str(path), "artifacts/", "sqlite"):
        assert secret not in r.text
    check_coherent(Forecast.model_validate(body))


def test_a_distribution_fitted_after_the_origin_does_not_serve_it(
    registry: Any, clock: FakeClock, ewma_btc: DistributionForecaster
) -> None:
    """Fitted on every snapshot candle: a forecast as of an earlier date would be in-sample."""
    model_id = register_distribution(registry, ewma_btc)
    pred = Predictor(registry=registry, clock=clock, record=False, cache_ttl=0)
    f = pred.predict("bitcoin", H, as_of="2025-06-30")
    assert f.distribution_model_id is None and f.distribution_reason is not None
    assert f.distribution_reason.startswith(
        f"distribution model {model_id} was fitted on candles up to 2025-09-30"
    )
    assert f.distribution_source is not None and f.distribution_source.startswith(
        "garch_ref (fallback: distribution model"
    )
    assert pred.predict("bitcoin", H).distribution_model_id == model_id  # the latest: it serves


def _cache_binance(daily: pd.DataFrame, bars: pd.DataFrame | None) -> None:
    cache = CandleCache()
    cache.write(daily, "binance", "bitcoin", "1d")
    if bars is not None:
        cache.write(bars, "binance", "bitcoin", "4h")


def test_a_back_dated_forecast_reads_no_daily_or_4h_candle_after_its_origin(
    registry: Any, clock: FakeClock, har_btc_4h: DistributionForecaster
) -> None:
    """A version fitted on 4h candles serves from them; a forecast as of a past date reads
    neither daily nor 4h candles after that date's close (all of them changed: same answer)."""
    model_id = register_distribution(registry, har_btc_4h)
    daily = load_ohlcv("bitcoin")
    bars = load_ohlcv("bitcoin", interval="4h")
    _cache_binance(daily, bars)
    origin, later = "2025-06-30", "2025-08-31"

    def forecast(as_of: str) -> Forecast:
        pred = Predictor(registry=registry, source="binance", clock=clock, record=False)
        return pred.predict("bitcoin", H, as_of=as_of)

    before, before_later = forecast(origin), forecast(later)
    assert before.distribution_model_id == model_id, before.distribution_reason
    assert before.as_of == pd.Timestamp(origin, tz="UTC")
    # the 4h candles were read: changing those of the origin's own day moves the answer
    day = (bars.index >= pd.Timestamp(origin, tz="UTC")) & (
        bars.index < pd.Timestamp(origin, tz="UTC") + pd.Timedelta(days=1)
    )
    moved = bars.copy()
    moved.loc[day, "high"] *= 1.2
    _cache_binance(daily, moved)
    assert forecast(origin).quantiles != before.quantiles

    # every candle after the origin's close changes, daily and 4h
    rng = np.random.default_rng(26)
    close = pd.Timestamp(origin, tz="UTC") + pd.Timedelta(days=1)
    changed_daily, changed_bars = daily.copy(), bars.copy()
    for frame, after in (
        (changed_daily, changed_daily.index >= close),
        (changed_bars, changed_bars.index >= close),
    ):
        factor = np.exp(rng.normal(0, 0.05, int(after.sum())))
        for col in ("open", "high", "low", "close"):
            frame.loc[after, col] = frame.loc[after, col] * factor
        frame.loc[after, "high"] *= 1.1
        frame.loc[after, "low"] *= 0.9
    _cache_binance(changed_daily, changed_bars)
    after = forecast(origin)
    assert numbers(after) == numbers(before)
    # and the change is real: a later origin, which reads those candles, moves
    assert forecast(later).quantiles != before_later.quantiles


def test_4h_candles_that_stop_before_the_close_hand_over_to_the_fallback_until_refreshed(
    registry: Any, clock: FakeClock, har_btc_4h: DistributionForecaster
) -> None:
    model_id = register_distribution(registry, har_btc_4h)
    daily = load_ohlcv("bitcoin")
    bars = load_ohlcv("bitcoin", interval="4h")
    pred = Predictor(registry=registry, source="binance", clock=clock, record=False)

    _cache_binance(daily, bars.iloc[:-3])  # the last day's evening bars not fetched yet
    f = pred.predict("bitcoin", H)
    assert f.distribution_model_id is None and f.distribution_reason is not None
    assert f.distribution_reason == (
        f"distribution model {model_id} reads 4h candles, and the binance 4h candles of bitcoin "
        "do not reach this forecast's last close (`cryptoforecast data update bitcoin` fetches "
        "them)"
    )
    assert f.distribution_source == f"garch_ref (fallback: {f.distribution_reason})"
    assert pred.predict("bitcoin", H).cached is False  # it may pass: not kept

    _cache_binance(daily, bars)  # refreshed
    g = pred.predict("bitcoin", H)
    assert g.cached is False and g.distribution_model_id == model_id
    candles = pred.candles("bitcoin")
    intraday = pred.intraday("bitcoin", candles)
    assert intraday is not None
    expected = expected_quantiles(har_btc_4h, candles, g.predicted_return, intraday)
    assert g.quantiles is not None
    np.testing.assert_allclose(list(g.quantiles.values()), list(expected.values()), rtol=1e-12)
    check_coherent(g)


def test_a_source_without_4h_candles_serves_the_fallback_labelled(
    registry: Any, clock: FakeClock, har_btc_4h: DistributionForecaster
) -> None:
    model_id = register_distribution(registry, har_btc_4h)
    CandleCache().write(load_ohlcv("bitcoin"), "coingecko", "bitcoin", "1d")
    f = Predictor(registry=registry, source="coingecko", clock=clock, record=False).predict(
        "bitcoin", H
    )
    assert f.distribution_reason == (
        f"distribution model {model_id} reads 4h candles, which source coingecko does not have"
    )
    assert f.distribution_model_id is None and f.quantiles is not None
    check_coherent(f)


def test_forecast_json_names_the_served_distribution(
    registry: Any, ewma_btc: DistributionForecaster, capsys: pytest.CaptureFixture[str]
) -> None:
    model_id = register_distribution(registry, ewma_btc)
    code, out, err = run(["forecast", "bitcoin", "-H", str(H), "--json"], capsys)
    assert code == 0, err
    (f,) = json.loads(out)["forecasts"]
    assert (f["distribution_model_id"], f["distribution_version"]) == (model_id, "1.0.0")
    assert f["distribution_reason"] == "promotion gate passed: test"
    assert f["distribution_source"].startswith(f"ewma_t v1.0.0 (distribution model {model_id}")
    code, out, err = run(["forecast", "bitcoin", "-H", "1", "--json"], capsys)
    assert code == 0, err
    (f,) = json.loads(out)["forecasts"]
    assert f["distribution_model_id"] is None
    assert f["distribution_reason"] == "no production distribution for bitcoin h=1"
