"""Distribution forecasters: never-crossing quantiles, no look-ahead, out-of-sample calibration,
intervals and probabilities that agree with the quantiles, errors that say what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.backtest.distribution_walk import walk_distribution
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ConfigError, DataError, NotFittedError
from cryptoforecast.models.distribution import (
    QUANTILES,
    VOLATILITY_MODELS,
    DistributionForecaster,
    MarketData,
)
from cryptoforecast.models.distribution import volatility as vol_module
from tests.models.distribution.conftest import perturb_after

MODELS = list(VOLATILITY_MODELS)


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_quantiles_never_cross_on_every_snapshot_coin(name: str) -> None:
    for symbol in list_assets_symbols():
        daily = load_ohlcv(symbol).iloc[-900:]
        intraday = load_ohlcv(symbol, interval="4h")
        market = MarketData(daily, intraday.loc[intraday.index >= daily.index[0]])
        dist = DistributionForecaster(name, horizon=7).fit(market)
        q = dist.predict_quantiles(market)
        assert list(q.columns) == list(QUANTILES)
        assert len(q) > 800, symbol
        assert np.isfinite(q.to_numpy()).all()
        assert (np.diff(q.to_numpy(), axis=1) >= 0).all(), (symbol, name)
        assert (q[0.975] > q[0.025]).all()


def list_assets_symbols() -> list[str]:
    return [a.binance_symbol for a in snapshot_assets()]


@pytest.mark.parametrize("name", MODELS)
def test_scale_and_walk_at_t_ignore_every_later_candle(name: str, btc_market: MarketData) -> None:
    """The distribution at origin t (fit, calibration and prediction, arch fits included) is the
    same when every candle after t changes."""
    idx = btc_market.daily.index
    t = idx[700]
    other = perturb_after(btc_market, t)
    assert not np.allclose(other.daily["close"].iloc[-1], btc_market.daily["close"].iloc[-1])
    origins = idx[640:701]
    outs = []
    h = 7  # realised scores of origins t-6..t-1 depend on later candles: they must wait
    for market in (btc_market, other):
        y = np.log(market.daily["close"].shift(-h) / market.daily["close"])
        # garch_ref is never calibrated (and a holdout inside 640 candles is too short for it)
        calibration = "none" if name == "garch_ref" else "conformal"
        walk = walk_distribution(
            market, idx[640:760], y, name, h, retrain_frequency=30, calibration=calibration
        )
        outs.append(walk)
    a, b = outs
    pd.testing.assert_frame_equal(a.quantiles.loc[origins], b.quantiles.loc[origins])
    pd.testing.assert_series_equal(a.p_up.loc[origins], b.p_up.loc[origins])
    assert not a.quantiles.loc[idx[705] :].equals(b.quantiles.loc[idx[705] :])


def test_calibration_scores_come_only_from_out_of_sample_rows(
    btc_market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spy on every volatility fit: the rows scored for calibration all lie after the last
    candle the scoring model was fitted on, plus the horizon."""
    fits: list[pd.Timestamp] = []
    scored: list[pd.Timestamp] = []
    real_fit = vol_module.EwmaT.fit
    real_sum = vol_module.forward_sum

    def spy_fit(self, market):  # type: ignore[no-untyped-def]
        fits.append(market.daily.index[-1])
        return real_fit(self, market)

    def spy_sum(values, horizon):  # type: ignore[no-untyped-def]
        out = real_sum(values, horizon)
        scored.append(out)
        return out

    monkeypatch.setattr(vol_module.EwmaT, "fit", spy_fit)
    import cryptoforecast.models.distribution.forecaster as fmod

    monkeypatch.setattr(fmod, "forward_sum", spy_sum)
    h = 7
    dist = DistributionForecaster("ewma_t", horizon=h, calibration_fraction=0.3)
    scores = dist.holdout_scores(btc_market)
    idx = btc_market.daily.index
    assert len(fits) == 1
    fit_end = idx.get_loc(fits[0])
    first = len(idx) - round(len(idx) * 0.3)
    assert fit_end == first - h  # the scoring model's last candle is h days before row `first`
    # exactly the rows from `first` on whose h-day target is known are scored
    assert len(scores) == len(idx) - h - first
    # and the fitted model used no row at or after `first`: refitting on all data changes scores
    full = vol_module.EwmaT(horizon=h).fit(btc_market)
    assert full.shape_.df != pytest.approx(
        vol_module.EwmaT(horizon=h).fit(btc_market.until(fits[0])).shape_.df
    )


def test_interval_p_up_and_p_move_agree_with_the_quantiles(btc_market: MarketData) -> None:
    dist = DistributionForecaster("ewma_t", horizon=7).fit(btc_market)
    mu = pd.Series(0.01, index=btc_market.daily.index)
    q = dist.predict_quantiles(btc_market, location=mu, quantiles=[0.1, 0.5, 0.9])
    band = dist.predict_interval(btc_market, location=mu, coverage=0.8)
    np.testing.assert_allclose(band["lower"], q[0.1])
    np.testing.assert_allclose(band["upper"], q[0.9])
    both = dist.predict_interval(btc_market, location=mu, level=[80, 95])
    assert list(both.columns) == ["lower_80", "upper_80", "lower_95", "upper_95"]
    assert (both["lower_95"] <= both["lower_80"]).all()
    np.testing.assert_allclose(both["lower_80"], q[0.1])
    p_up = dist.p_up(btc_market, location=mu)
    # p_up is 1 - F(0): above 0.5 exactly where the median is above 0
    assert ((p_up > 0.5) == (q[0.5] > 0)).mean() > 0.99
    p10, p20 = dist.p_move(btc_market, 0.10), dist.p_move(btc_market, 0.20)
    assert ((p10 >= p20) & (p10 >= 0) & (p10 <= 1)).all()
    wide = dist.predict_quantiles(btc_market, quantiles=[0.05, 0.95])
    # P(|r| > q95 when symmetric-ish) is around 10%
    assert 0.02 < float(dist.p_move(btc_market, float(wide[0.95].iloc[-1])).iloc[-1]) < 0.2


def test_aci_moves_levels_after_misses(btc_market: MarketData) -> None:
    dist = DistributionForecaster("ewma_t", aci_gamma=0.05).fit(btc_market)
    before = dist.predict_quantiles(btc_market).iloc[-1]
    dist.update([-8.0] * 10)  # ten crashes far below every quantile
    after = dist.predict_quantiles(btc_market).iloc[-1]
    assert after[0.025] < before[0.025]
    assert (np.diff(after.to_numpy()) >= 0).all()


def test_bad_inputs_raise_clear_errors(btc_market: MarketData) -> None:
    with pytest.raises(ConfigError, match="unknown distribution 'nope'"):
        DistributionForecaster("nope").fit(btc_market)
    with pytest.raises(NotFittedError, match="not fitted"):
        DistributionForecaster().predict_quantiles(btc_market)
    dist = DistributionForecaster("rolling_gaussian").fit(btc_market)
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        dist.predict_quantiles(btc_market, quantiles=[0.5, 1.5])
    with pytest.raises(DataError, match="level=\\[80, 95\\]"):
        dist.predict_interval(btc_market, level=[180])
    short = MarketData(btc_market.daily.iloc[:40])
    with pytest.raises(DataError, match="needs at least"):
        DistributionForecaster("ewma_t", calibration="none").fit(short)


def test_every_point_model_gives_quantiles_that_agree_with_its_interval(
    btc_daily: pd.DataFrame,
) -> None:
    from cryptoforecast.features import build_features, make_target
    from cryptoforecast.models import make_forecaster

    X = build_features(btc_daily).dropna().iloc[-600:]
    y = make_target(btc_daily, 1).loc[X.index]
    model = make_forecaster("lightgbm", horizon=1, n_estimators=20).fit(X.iloc[:-1], y.iloc[:-1])
    q = model.predict_quantiles(X.iloc[-50:])
    assert list(q.columns) == list(QUANTILES)
    assert (np.diff(q.to_numpy(), axis=1) >= 0).all()
    band = model.predict_interval(X.iloc[-50:], coverage=0.8)
    np.testing.assert_allclose(band["lower"], q[0.1])
    np.testing.assert_allclose(band["upper"], q[0.9])


def test_walk_with_per_level_aci_keeps_quantiles_ordered_and_scores_them(
    btc_market: MarketData,
) -> None:
    idx = btc_market.daily.index
    y = np.log(btc_market.daily["close"].shift(-1) / btc_market.daily["close"])
    origins = idx[600:900]
    static = walk_distribution(btc_market, origins, y, "ewma_t", 1)
    adaptive = walk_distribution(btc_market, origins, y, "ewma_t", 1, aci_gamma=0.02)
    q = adaptive.quantiles.to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
    assert not np.allclose(q, static.quantiles.to_numpy())  # the levels did move
    assert np.isfinite(adaptive.crps).all()
    inside = (y.loc[origins] >= adaptive.quantiles[0.1]) & (
        y.loc[origins] <= adaptive.quantiles[0.9]
    )
    assert 0.7 < inside.mean() < 0.9
