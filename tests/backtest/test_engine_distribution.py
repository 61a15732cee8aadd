"""The backtester's predictive distribution: columns, the "distribution" block beside the
baselines on the same origins, and no look-ahead through the walk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest.engine import ForecastBacktester
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.features import build_features
from cryptoforecast.models.distribution import QUANTILES
from tests.ridge import RidgeForecaster


def _trainer(horizon: int):  # noqa: ANN202
    def train(X: pd.DataFrame, y: pd.Series) -> RidgeForecaster:
        return RidgeForecaster(horizon=horizon, alpha=10.0).fit(X, y)

    return train


@pytest.fixture(scope="module")
def btc() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    daily = load_ohlcv("BTCUSDT").iloc[-1200:]
    intraday = load_ohlcv("BTCUSDT", interval="4h")
    intraday = intraday.loc[intraday.index >= daily.index[0]]
    return daily, intraday, build_features(daily)


@pytest.mark.slow
def test_results_gain_quantiles_and_the_distribution_block(btc) -> None:  # type: ignore[no-untyped-def]
    daily, intraday, features = btc
    bt = ForecastBacktester(
        initial_train_size=400,
        test_size=30,
        step_size=30,
        retrain_frequency=30,
        horizon=7,
        test_origins=240,
        distribution="har_rv",
    )
    res = bt.run_walk_forward_validation(daily, _trainer(7), features=features, intraday=intraday)
    q_cols = [f"q_{q:g}" for q in QUANTILES]
    assert q_cols[0] == "q_0.025" and set(q_cols) <= set(res.columns)
    assert {f"price_q_{q:g}" for q in QUANTILES} <= set(res.columns) and "p_up" in res.columns
    qs = res[q_cols].to_numpy()
    assert np.isfinite(qs).all() and (np.diff(qs, axis=1) >= 0).all()
    np.testing.assert_allclose(
        res["price_q_0.5"], res["close_at_origin"] * np.exp(res["q_0.5"]), rtol=1e-12
    )
    block = bt.calculate_aggregate_metrics()["distribution"]
    assert len(res) == 240 and block["model"] == "har_rv" and block["n"] == 240
    for key in (
        "crps",
        "pinball",
        "coverage",
        "winkler_80",
        "winkler_95",
        "brier_up",
        "kupiec_p",
        "coverage_by_vol_tercile",
        "skill",
    ):
        assert key in block, key
    assert set(block["coverage"]) == {"80", "95"}
    assert set(block["coverage_by_vol_tercile"]) == {"low", "mid", "high"}
    assert set(block["skill"]) == {"rolling_gaussian", "ewma_t", "garch_ref"}
    for base, s in block["skill"].items():
        expect = 100 * (1 - block["crps"] / res[f"crps_{base}"].mean())
        assert s["crps_skill_pct"] == pytest.approx(expect), base
        assert 0 <= s["dm_pvalue"] <= 1
    assert 0.5 < block["coverage"]["80"] <= 1.0
    assert block["crps"] == pytest.approx(res["crps"].mean())


@pytest.mark.slow
def test_distribution_at_origin_ignores_later_candles(btc) -> None:  # type: ignore[no-untyped-def]
    daily, _, _ = btc
    cut = daily.index[-60]
    shaken = daily.copy()
    after = shaken.index > cut
    factor = np.exp(np.cumsum(np.random.default_rng(2).normal(0, 0.05, int(after.sum()))))
    for col in ("open", "high", "low", "close"):
        shaken.loc[after, col] = shaken.loc[after, col].to_numpy() * factor
    runs = []
    for data in (daily, shaken):
        bt = ForecastBacktester(
            initial_train_size=400, horizon=3, test_origins=150, distribution="garch_t"
        )
        runs.append(bt.run_walk_forward_validation(data, _trainer(3)).set_index("origin"))
    known = runs[0].index[runs[0].index <= cut]
    cols = [c for c in runs[0].columns if c.startswith("q_")] + ["p_up", "sigma"]
    pd.testing.assert_frame_equal(runs[0].loc[known, cols], runs[1].loc[known, cols])
    assert not runs[0][cols].equals(runs[1][cols])


def test_unknown_distribution_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown distribution 'gauss'"):
        ForecastBacktester(distribution="gauss")._check_params()
