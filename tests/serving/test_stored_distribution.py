"""The service uses the production model's stored distribution (labelled with the scale model
and the model version), the labelled ewma_t fallback otherwise, and never reads past the origin."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.data import load_ohlcv
from cryptoforecast.models.distribution import DistributionForecaster, MarketData
from cryptoforecast.serving import Predictor
from cryptoforecast.serving.distribution import FALLBACK_SCALE, centred, served_distribution

from .conftest import TRAIN_END, FakeClock, fit_model, register


@pytest.fixture(scope="module")
def har_btc() -> DistributionForecaster:
    """har_rv for bitcoin h=7 fitted on daily candles up to TRAIN_END only."""
    return DistributionForecaster("har_rv", horizon=7).fit(
        MarketData(load_ohlcv("bitcoin", end=TRAIN_END))
    )


@pytest.fixture(scope="module")
def har_btc_4h() -> DistributionForecaster:
    """The same, fitted with bitcoin's 4h candles (realised variance) up to TRAIN_END."""
    daily = load_ohlcv("bitcoin", end=TRAIN_END)
    bars = load_ohlcv("bitcoin", interval="4h")
    bars = bars.loc[bars.index < daily.index[-1] + pd.Timedelta(days=1)]
    return DistributionForecaster("har_rv", horizon=7).fit(MarketData(daily, bars))


@pytest.mark.parametrize("with_4h", [False, True])
def test_forecast_uses_the_stored_distribution_on_the_candles_it_was_fitted_on(
    registry: Any,
    clock: FakeClock,
    har_btc: DistributionForecaster,
    har_btc_4h: DistributionForecaster,
    with_4h: bool,
) -> None:
    """A stored scale reads, when it serves, what it read when it was fitted: the coin's 4h
    candles if (and only if) it was fitted on them; daily candles alone otherwise."""
    stored = har_btc_4h if with_4h else har_btc
    assert stored.uses_intraday_ is with_4h
    model = fit_model("bitcoin", "drift", 7)
    model.distribution_ = stored
    trained = register(registry, model, "bitcoin")
    pred = Predictor(registry=registry, clock=clock)
    f = pred.predict("bitcoin", 7)
    assert f.source == "model" and f.model_id == trained.model_id
    # stored with the point model (an older registry): it serves, and says why no
    # distribution version did
    assert f.distribution_source == (
        "har_rv (drift v1.0.0; no production distribution for bitcoin h=7)"
    )
    assert (f.distribution_model_id, f.distribution_version) == (trained.model_id, "1.0.0")
    assert f.distribution is not None and f.distribution.source == "har_rv (drift v1.0.0)"
    loaded = pred.load_model(
        trained.record if hasattr(trained, "record") else registry.get(trained.model_id)
    )
    assert loaded.distribution_.uses_intraday_ is with_4h  # kept in the artifact
    # the numbers are the stored (loaded, hash-checked) distribution around the served point
    candles = pred.candles("bitcoin")
    intraday = pred.intraday("bitcoin", candles)
    assert intraday is not None and intraday.index[-1] < candles.index[-1] + pd.Timedelta(days=1)
    assert f.distribution is not None
    read = served_distribution(
        candles, 7, f.distribution.location, stored=stored, intraday=intraday if with_4h else None
    )
    other = served_distribution(
        candles, 7, f.distribution.location, stored=stored, intraday=None if with_4h else intraday
    )
    assert f.quantiles == pytest.approx(read.quantiles, rel=1e-12)
    assert f.p_up == pytest.approx(read.p_up, rel=1e-12)
    assert other.quantiles[0.05] != pytest.approx(f.quantiles[0.05], rel=1e-9)
    fallback = served_distribution(candles, 7, f.predicted_return)
    assert fallback.quantiles[0.05] != pytest.approx(f.quantiles[0.05], rel=1e-6)
    prices = list(f.quantiles.values())
    assert prices == sorted(prices)


def test_a_model_without_a_distribution_gets_the_labelled_fallback(
    registry: Any, clock: FakeClock
) -> None:
    register(registry, fit_model("bitcoin", "drift", 7), "bitcoin")
    f = Predictor(registry=registry, clock=clock).predict("bitcoin", 7)
    assert f.source == "model" and f.distribution is not None
    assert f.distribution.source == FALLBACK_SCALE
    assert (
        f.distribution_source == "garch_ref (fallback: no production distribution for bitcoin h=7)"
    )
    assert f.distribution_model_id is None and f.distribution_reason is not None
    assert f.quantiles is not None and f.p_up is not None


def test_stored_quantiles_at_an_origin_ignore_every_later_candle(
    har_btc: DistributionForecaster,
) -> None:
    candles = load_ohlcv("bitcoin")
    origin = candles.index[-120]
    known = candles.loc[:origin]
    served = served_distribution(known, 7, 0.002, stored=har_btc)
    # every candle after the origin changes (prices scaled by noise, ranges widened)
    rng = np.random.default_rng(7)
    changed = candles.copy()
    after = changed.index > origin
    factor = np.exp(rng.normal(0, 0.05, after.sum()))
    for col in ("open", "high", "low", "close"):
        changed.loc[after, col] = changed.loc[after, col] * factor
    changed.loc[after, "high"] *= 1.1
    changed.loc[after, "low"] *= 0.9
    loc = pd.Series(0.002, index=changed.index)
    # the served shape is the stored one centred on its median
    full = centred(har_btc.predict_distribution(MarketData(changed), loc))
    full = full.quantiles(list(served.quantiles)).loc[origin]
    close = float(known["close"].iloc[-1])
    np.testing.assert_allclose(
        [close * np.exp(full[q]) for q in served.quantiles],
        list(served.quantiles.values()),
        rtol=1e-12,
    )
    # and the scale really moved after the origin (the check above could not pass vacuously)
    moved = har_btc.predict_quantiles(MarketData(changed), loc).iloc[-1]
    same = har_btc.predict_quantiles(MarketData(candles), loc).iloc[-1]
    assert not np.allclose(moved.to_numpy(), same.to_numpy())
