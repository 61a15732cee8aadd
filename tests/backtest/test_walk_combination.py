"""``walk_combination``: the combination candidate scored over member walks, its weights at each
origin from CRPS whose targets are known there, a clearly worse member dropped, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cryptoforecast.backtest import DistributionWalk, walk_combination, walk_distribution
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation import crps_from_quantiles, crps_gaussian
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import (
    COMBINATION_LEVELS,
    COMBINATION_MIN_SCORED,
    QUANTILES,
    MarketData,
)
from cryptoforecast.models.distribution.volatility import forward_sum
from tests.models.distribution.conftest import perturb_after

GRID = np.asarray(COMBINATION_LEVELS)


def _gaussian_walk(name: str, sigma: np.ndarray, y: pd.Series) -> DistributionWalk:
    """A walk of N(0, sigma_t) at every origin of ``y`` (exact CRPS)."""
    index = y.index
    q = sigma[:, None] * stats.norm.ppf(GRID)[None, :]
    known = np.isfinite(y.to_numpy())
    crps = np.full(len(y), np.nan)
    crps[known] = crps_gaussian(y.to_numpy()[known], np.zeros(known.sum()), sigma[known])
    return DistributionWalk(
        name=name,
        quantiles=pd.DataFrame(q, index=index, columns=[float(x) for x in GRID]),
        p_up=pd.Series(0.5, index=index),
        sigma=pd.Series(sigma, index=index),
        crps=pd.Series(crps, index=index),
        pit=pd.Series(stats.norm.cdf(y.to_numpy() / sigma), index=index),
        fit_seconds=1.0,
        predict_seconds=2.0,
        n_refits=3,
    )


def _synthetic(n: int = 500, horizon: int = 1, seed: int = 0) -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2023-01-01", periods=n, freq="D", tz="UTC")
    vol = 0.02 * np.exp(np.cumsum(rng.normal(0, 0.05, n)))  # a slowly moving true scale
    y = pd.Series(rng.normal(0, vol), index=index)
    y.iloc[-horizon:] = np.nan  # targets not yet realised
    return y, vol


def test_a_far_worse_member_is_dropped_and_the_combination_scores_as_the_better() -> None:
    y, vol = _synthetic()
    walks = {"good": _gaussian_walk("good", vol, y), "wide": _gaussian_walk("wide", 3 * vol, y)}
    combo = walk_combination(walks, y, horizon=1)
    assert combo.weights is not None
    # origin k reads the k origins before it (h = 1): equal weights until 60 are scored
    np.testing.assert_array_equal(combo.weights.iloc[:COMBINATION_MIN_SCORED], 0.5)
    assert combo.weights["wide"].iloc[COMBINATION_MIN_SCORED] < 0.05
    late = slice(COMBINATION_MIN_SCORED + 30, None)
    assert combo.weights["wide"].iloc[late].max() < 0.03  # (1 / 1.5) ** 10 = 0.017
    good, wide = walks["good"].crps.iloc[late].mean(), walks["wide"].crps.iloc[late].mean()
    assert wide > 1.4 * good
    assert combo.crps.iloc[late].mean() == pytest.approx(good, rel=0.01)


def test_the_fields_are_the_weighted_quantile_average_scored_on_y() -> None:
    y, vol = _synthetic(horizon=3)
    walks = {"a": _gaussian_walk("a", vol, y), "b": _gaussian_walk("b", 1.3 * vol, y)}
    combo = walk_combination(walks, y, horizon=3, name="combo")
    assert combo.name == "combo" and list(combo.quantiles.columns) == list(QUANTILES)
    assert combo.weights is not None and list(combo.weights.columns) == ["a", "b"]
    w = combo.weights.to_numpy()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    full = w[:, [0]] * walks["a"].quantiles.to_numpy() + w[:, [1]] * walks["b"].quantiles.to_numpy()
    picked = [int(np.argmin(np.abs(GRID - t))) for t in QUANTILES]
    np.testing.assert_allclose(combo.quantiles.to_numpy(), full[:, picked], rtol=1e-12)
    assert (np.diff(combo.quantiles.to_numpy(), axis=1) > 0).all()
    np.testing.assert_allclose(combo.sigma, w[:, 0] * vol + w[:, 1] * 1.3 * vol, rtol=1e-12)
    known = y.notna().to_numpy()
    expected = crps_from_quantiles(y[known], full[known], GRID)
    np.testing.assert_allclose(combo.crps[known], expected, rtol=1e-12)
    assert combo.crps[~known].isna().all() and combo.pit[~known].isna().all()
    # equal-weight Gaussians: the combination is N(0, mean sigma), so PIT and p_up are known
    np.testing.assert_allclose(combo.p_up, 0.5, atol=1e-9)
    first = slice(0, COMBINATION_MIN_SCORED)
    exact = stats.norm.cdf(y.iloc[first] / (1.15 * vol[first]))
    np.testing.assert_allclose(combo.pit.iloc[first], exact, atol=2e-3)
    assert (combo.fit_seconds, combo.n_refits) == (2.0, 6) and combo.predict_seconds >= 4.0


def test_the_combination_at_an_origin_reads_nothing_realised_after_it() -> None:
    horizon = 5
    y, vol = _synthetic(horizon=horizon)
    walks = {"a": _gaussian_walk("a", vol, y), "b": _gaussian_walk("b", 1.6 * vol, y)}
    combo = walk_combination(walks, y, horizon=horizon)
    rng = np.random.default_rng(1)
    for t in (30, 200, 420):
        later_y = y.copy()
        later_y.iloc[t - horizon + 1 :] = rng.normal(0, 0.5, len(y) - t + horizon - 1)
        changed = {}
        for name, walk in walks.items():
            q = walk.quantiles.copy()
            q.iloc[t + 1 :] *= rng.uniform(0.5, 2.0)
            crps = walk.crps.copy()
            crps.iloc[t - horizon + 1 :] = rng.uniform(0, 1, len(y) - t + horizon - 1)
            changed[name] = DistributionWalk(
                name, q, walk.p_up, walk.sigma, crps, walk.pit, 0.0, 0.0, 0
            )
        again = walk_combination(changed, later_y, horizon=horizon)
        assert combo.weights is not None and again.weights is not None
        pd.testing.assert_frame_equal(again.weights.iloc[: t + 1], combo.weights.iloc[: t + 1])
        pd.testing.assert_frame_equal(again.quantiles.iloc[: t + 1], combo.quantiles.iloc[: t + 1])
        pd.testing.assert_series_equal(again.sigma.iloc[: t + 1], combo.sigma.iloc[: t + 1])
        pd.testing.assert_series_equal(again.p_up.iloc[: t + 1], combo.p_up.iloc[: t + 1])


@pytest.mark.slow
def test_walked_members_on_real_candles_give_a_combination_free_of_look_ahead() -> None:
    horizon = 3
    daily = load_ohlcv("bitcoin").iloc[-700:]
    intraday = load_ohlcv("bitcoin", interval="4h")
    market = MarketData(daily, intraday.loc[intraday.index >= daily.index[0]])
    origins = daily.index[-250:]
    t = origins[150]

    def walked(m: MarketData) -> DistributionWalk:
        y = forward_sum(m.returns, horizon)
        walks = {
            name: walk_distribution(
                m, origins, y, name, horizon, calibration="none", quantiles=COMBINATION_LEVELS
            )
            for name in ("ewma_t", "rolling_gaussian")
        }
        return walk_combination(walks, y, horizon, min_scored=30)

    combo, again = walked(market), walked(perturb_after(market, t))
    assert combo.weights is not None and again.weights is not None
    assert combo.quantiles.notna().all().all() and combo.crps.iloc[:-horizon].notna().all()
    pd.testing.assert_frame_equal(again.weights.loc[:t], combo.weights.loc[:t])
    pd.testing.assert_frame_equal(again.quantiles.loc[:t], combo.quantiles.loc[:t])
    assert not again.weights.iloc[-1].equals(combo.weights.iloc[-1])  # later ones do move


def test_walks_on_too_few_or_different_levels_are_refused() -> None:
    y, vol = _synthetic(n=100)
    walk = _gaussian_walk("a", vol, y)
    coarse = DistributionWalk(
        "c",
        walk.quantiles[[c for c in walk.quantiles.columns if c in QUANTILES]],
        walk.p_up,
        walk.sigma,
        walk.crps,
        walk.pit,
        0.0,
        0.0,
        0,
    )
    with pytest.raises(DataError, match="COMBINATION_LEVELS"):
        walk_combination({"a": coarse, "b": coarse}, y, 1)
    with pytest.raises(DataError, match="share their quantile levels"):
        walk_combination({"a": walk, "c": coarse}, y, 1)
    with pytest.raises(DataError, match="not among the members' levels"):
        walk_combination({"a": walk}, y, 1, quantiles=[0.123])
    with pytest.raises(DataError, match="at least one member"):
        walk_combination({}, y, 1)
