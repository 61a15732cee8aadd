"""p_up, p_move and predict_interval(level=...) on every point forecaster, agreeing with
predict_quantiles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cryptoforecast.exceptions import DataError
from cryptoforecast.models import make_forecaster
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.probabilities import PROBABILITY_GRID, cdf_from_quantiles

MODELS: dict[str, dict[str, Any]] = {
    "naive": {},
    "drift": {},
    "technical": {},
    "lightgbm": {"n_estimators": 20},
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    n = 400
    idx = pd.date_range("2022-01-01", periods=n, freq="D", tz="UTC")
    # the technical model reads these columns by name
    cols = ["rsi_14", "macd_hist_12_26_9", "close_sma_50", "vol_30"]
    X = pd.DataFrame(rng.normal(size=(n, 4)), index=idx, columns=cols)
    X["rsi_14"] = 50 + 15 * X["rsi_14"]
    X["vol_30"] = X["vol_30"].abs() * 0.02 + 0.01
    y = pd.Series(0.01 * X["macd_hist_12_26_9"] + rng.normal(0, 0.02, n), index=idx)
    return X, y


@pytest.fixture(scope="module")
def fitted(data: tuple[pd.DataFrame, pd.Series]) -> dict[str, Forecaster]:
    X, y = data
    return {name: make_forecaster(name, horizon=1, **p).fit(X, y) for name, p in MODELS.items()}


def test_cdf_from_quantiles_matches_a_known_distribution() -> None:
    mu, sd = np.array([0.0, 0.01, -0.03]), np.array([0.02, 0.05, 0.01])
    grid = np.asarray(PROBABILITY_GRID)
    q = pd.DataFrame(mu[:, None] + sd[:, None] * stats.norm.ppf(grid)[None, :], columns=grid)
    for x in (-0.02, 0.0, 0.015):
        got = cdf_from_quantiles(q, x)
        want = np.clip(stats.norm.cdf(x, mu, sd), grid[0], grid[-1])
        np.testing.assert_allclose(got, want, atol=2e-3)


@pytest.mark.parametrize("name", list(MODELS))
def test_p_up_and_p_move_follow_the_quantiles(
    name: str, fitted: dict[str, Forecaster], data: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, _ = data
    model = fitted[name]
    rows = X.iloc[-20:]
    p_up = model.p_up(rows)
    assert isinstance(p_up, pd.Series) and p_up.index.equals(model.predict(rows).index)
    assert ((p_up >= 0) & (p_up <= 1)).all()
    # P(r > 0) read off the quantiles: below the median iff the median is below 0
    median = model.predict_quantiles(rows, [0.5])[0.5]
    clear = median.abs() > 1e-3
    assert ((p_up[clear] > 0.5) == (median[clear] > 0)).all()
    # the share of the model's own 199-level quantiles above 0 agrees to the grid's resolution
    q = model.predict_quantiles(rows, PROBABILITY_GRID)
    share = (q > 0).mean(axis=1)
    np.testing.assert_allclose(p_up, share, atol=0.011)
    small, large = model.p_move(rows, 0.01), model.p_move(rows, 0.05)
    assert ((small >= large) & (large >= 0) & (small <= 1)).all()
    outside = ((q < -0.05) | (q > 0.05)).mean(axis=1)
    np.testing.assert_allclose(large, outside, atol=0.011)


@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), "x"])
def test_p_move_refuses_a_bad_threshold(bad: Any, fitted: dict[str, Forecaster], data: Any) -> None:
    with pytest.raises(DataError, match="threshold must be a positive"):
        fitted["drift"].p_move(data[0].iloc[-3:], bad)


@pytest.mark.parametrize("name", list(MODELS))
def test_predict_interval_accepts_level_and_agrees_with_quantiles(
    name: str, fitted: dict[str, Forecaster], data: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, _ = data
    model = fitted[name]
    rows = X.iloc[-15:]
    both = model.predict_interval(rows, level=[80, 95])
    assert list(both.columns) == ["lower_80", "upper_80", "lower_95", "upper_95"]
    one = model.predict_interval(rows, coverage=0.8)
    assert list(one.columns) == ["lower", "upper"]
    pd.testing.assert_series_equal(both["lower_80"], one["lower"], check_names=False)
    default = model.predict_interval(rows)
    pd.testing.assert_frame_equal(default, one)
    q = model.predict_quantiles(rows, [0.025, 0.1, 0.9, 0.975])
    point = model.predict(rows)
    # the bands are the quantiles, widened only where needed to hold the point forecast
    np.testing.assert_allclose(both["lower_80"], np.minimum(q[0.1], point), rtol=0, atol=1e-12)
    np.testing.assert_allclose(both["upper_80"], np.maximum(q[0.9], point), rtol=0, atol=1e-12)
    np.testing.assert_allclose(both["lower_95"], np.minimum(q[0.025], point), rtol=0, atol=1e-12)
    np.testing.assert_allclose(both["upper_95"], np.maximum(q[0.975], point), rtol=0, atol=1e-12)
    with pytest.raises(DataError, match="level=\\[80, 95\\]"):
        model.predict_interval(rows, level=[180])
