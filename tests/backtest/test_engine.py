"""ForecastBacktester: no fit sees its future (spy), fast path == plain loop, naive MASE = 1."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.features import make_target
from cryptoforecast.models.base import BaseForecaster
from tests.ridge import RidgeForecaster


def _candles(n: int = 420, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, n)))
    index = pd.date_range("2021-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame({"close": close, "volume": rng.uniform(1, 2, n)}, index=index)


def _features(candles: pd.DataFrame) -> pd.DataFrame:
    """Causal features: lagged log returns and a 5-day mean (NaN warm-up rows first)."""
    r = np.log(candles["close"]).diff()
    return pd.DataFrame(
        {"ret_1": r, "ret_2": r.shift(1), "ret_3": r.shift(2), "ret_mean_5": r.rolling(5).mean()},
        index=candles.index,
    )


class WindowForecaster(BaseForecaster):
    """A sequence model: reads ``lookback`` rows up to the origin, returns one row per window."""

    model_type: ClassVar[str] = "window"

    def __init__(self, horizon: int = 1, lookback: int = 8, random_state: int = 42) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.lookback = lookback

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        self.scale_ = float(y.std())

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        if len(X) < self.lookback:
            raise DataError(f"need {self.lookback} rows, got {len(X)}")
        m = X["ret_1"].rolling(self.lookback).mean().iloc[self.lookback - 1 :]
        return m * self.scale_ * 10


def _fit(cls: type, horizon: int, **kw: Any):  # noqa: ANN202
    def trainer(X: pd.DataFrame, y: pd.Series) -> BaseForecaster:
        return cls(horizon=horizon, **kw).fit(X, y)

    return trainer


@pytest.mark.parametrize("horizon", [1, 3])
@pytest.mark.parametrize("window", ["expanding", "sliding"])
def test_spy_no_fit_sees_a_row_whose_target_is_unknown_at_its_origins(
    horizon: int, window: str
) -> None:
    candles = _candles()
    feats = _features(candles)
    pos = {ts: i for i, ts in enumerate(candles.index)}
    calls: list[dict[str, Any]] = []

    class Spy(BaseForecaster):
        model_type: ClassVar[str] = "spy"

        def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
            self.call_ = len(calls)
            calls.append(
                {
                    "max_pos": max(pos[t] for t in X.index),
                    "y_has_nan": bool(y.isna().any()),
                    "n": len(X),
                }
            )

        def _predict(self, X: pd.DataFrame) -> pd.Series:
            return pd.Series(self.call_ * 1e-4, index=X.index)  # the forecast names its fit

    bt = ForecastBacktester(
        initial_train_size=60,
        test_size=25,
        step_size=25,
        retrain_frequency=20,
        horizon=horizon,
        window=window,
    )
    res = bt.run_walk_forward_validation(candles, _fit(Spy, horizon), features=feats)
    assert len(calls) == bt.n_refits_ > 5
    fit_of_row = np.rint(res["y_pred_logret"].to_numpy() / 1e-4).astype(int)
    for origin, call in zip(res["origin"], fit_of_row, strict=True):
        # the model in force at this origin was fitted on rows whose h-step target is known here
        assert calls[call]["max_pos"] <= pos[origin] - horizon
    assert not any(c["y_has_nan"] for c in calls)
    if window == "sliding":
        assert {c["n"] for c in calls} == {60}
    # every origin in the test range has exactly one forecast, and refits keep the schedule
    assert res["origin"].is_unique and res["origin"].is_monotonic_increasing
    gaps = pd.Series(res["refit_origin"].unique()).diff().dropna()
    assert (gaps >= pd.Timedelta(days=20)).all()


def _plain_loop(
    candles: pd.DataFrame,
    feats: pd.DataFrame,
    trainer,
    horizon: int,  # noqa: ANN001
    initial: int,
    freq: int,
) -> pd.DataFrame:
    """The obvious, slow loop: refit every ``freq`` origins; predict each from all history."""
    keep = feats.notna().all(axis=1)
    X = feats[keep]
    y = make_target(candles, horizon)[keep]
    close = candles["close"][keep]
    first = initial - 1 + horizon
    rows = []
    model = None
    for t in range(first, len(X) - horizon):
        if (t - first) % freq == 0:
            model = trainer(X.iloc[: t - horizon + 1], y.iloc[: t - horizon + 1])
        history = X.iloc[: t + 1]
        pred = model.predict(history).iloc[-1]
        band = model.predict_interval(history, coverage=0.8).iloc[-1]
        c = close.iloc[t]
        rows.append(
            {
                "origin": X.index[t],
                "y_true": close.iloc[t + horizon],
                "y_pred": c * math.exp(pred),
                "lower_80": c * math.exp(band["lower"]),
                "upper_80": c * math.exp(band["upper"]),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("cls", "horizon"), [(RidgeForecaster, 1), (RidgeForecaster, 4), (WindowForecaster, 2)]
)
def test_results_equal_a_plain_fit_predict_loop(cls: type, horizon: int) -> None:
    candles = _candles(300)
    feats = _features(candles)
    bt = ForecastBacktester(
        initial_train_size=80,
        test_size=30,
        step_size=30,
        retrain_frequency=30,
        horizon=horizon,
        interval_coverage=(0.8,),
    )
    res = bt.run_walk_forward_validation(candles, _fit(cls, horizon), features=feats)
    ref = _plain_loop(candles, feats, _fit(cls, horizon), horizon, 80, 30)
    assert len(res) == len(ref) > 100
    assert res["origin"].tolist() == ref["origin"].tolist()
    for col in ("y_true", "y_pred", "lower_80", "upper_80"):
        np.testing.assert_allclose(
            res[col].to_numpy(), ref[col].to_numpy(), rtol=1e-10, err_msg=col
        )
    # the row's own price bookkeeping is consistent
    np.testing.assert_allclose(res["naive"], res["close_at_origin"])
    np.testing.assert_allclose(
        res["y_true"], res["close_at_origin"] * np.exp(res["y_true_logret"]), rtol=1e-12
    )
    assert (res["target_time"] - res["origin"] == pd.Timedelta(days=horizon)).all()


def test_lightgbm_equals_plain_loop() -> None:
    pytest.importorskip("lightgbm")
    candles = _candles(260, seed=4)
    feats = _features(candles)
    trainer = trainer_for("lightgbm", 1, n_estimators=15, validation_fraction=0.0)
    bt = ForecastBacktester(
        initial_train_size=100,
        test_size=40,
        step_size=40,
        retrain_frequency=40,
        interval_coverage=(0.8,),
    )
    res = bt.run_walk_forward_validation(candles, trainer, features=feats)
    ref = _plain_loop(candles, feats, trainer, 1, 100, 40)
    np.testing.assert_allclose(res["y_pred"].to_numpy(), ref["y_pred"].to_numpy(), rtol=1e-12)
    assert bt.feature_importance_ is not None
    assert bt.feature_importance_.sum() == pytest.approx(1.0)


def test_naive_mase_is_one_and_dm_pvalue_one(btc_daily: pd.DataFrame) -> None:
    bt = ForecastBacktester(
        initial_train_size=200,
        test_size=30,
        step_size=30,
        retrain_frequency=30,
        horizon=1,
        test_origins=90,
    )
    res = bt.run_walk_forward_validation(btc_daily, trainer_for("naive", 1))
    assert len(res) == 90 and res["origin"].iloc[-1] == btc_daily.index[-2]
    agg = bt.calculate_aggregate_metrics()
    assert agg["model"]["mase"] == 1.0
    assert agg["improvement_vs_naive_pct"] == 0.0
    assert agg["dm_pvalue"] == 1.0 and "identical" in agg["dm_reason"]
    assert agg["model"]["mae"] == agg["naive"]["mae"]
    assert agg["n_forecasts"] == 90 and agg["n_refits"] == 3
    assert list(agg["per_fold"]["n"]) == [30, 30, 30]
    assert (agg["per_fold"]["mase"] == 1.0).all()


def test_aggregate_metrics_beside_naive_and_intervals() -> None:
    candles = _candles(400, seed=9)
    feats = _features(candles)
    bt = ForecastBacktester(
        initial_train_size=100, test_size=50, step_size=50, retrain_frequency=50, horizon=2
    )
    res = bt.run_walk_forward_validation(candles, _fit(RidgeForecaster, 2), features=feats)
    agg = bt.calculate_aggregate_metrics()
    e_m = res["y_true"] - res["y_pred"]
    e_n = res["y_true"] - res["naive"]
    assert agg["model"]["mae"] == pytest.approx(e_m.abs().mean())
    assert agg["naive"]["mae"] == pytest.approx(e_n.abs().mean())
    assert agg["improvement_vs_naive_pct"] == pytest.approx(
        (1 - e_m.abs().mean() / e_n.abs().mean()) * 100
    )
    assert 0 <= agg["dm_pvalue"] <= 1
    assert agg["n_forecasts"] == len(res) and agg["n_refits"] == bt.n_refits_
    for tag in ("80", "95"):
        assert (res[f"lower_{tag}"] <= res["y_pred"]).all() and (
            res["y_pred"] <= res[f"upper_{tag}"]
        ).all()
        assert 0 <= agg["model"][f"coverage_{tag}"] <= 1
    assert (res["lower_95"] <= res["lower_80"]).all()
    assert {"long_flat_sharpe", "long_short_total_return"} <= set(agg["model"])
    assert agg["buy_and_hold"]["exposure"] == 1.0
    assert agg["per_fold"]["n"].sum() == len(res)


def test_retrain_less_often_than_folds_and_progress() -> None:
    candles = _candles(300)
    feats = _features(candles)
    seen: list[tuple[int, int]] = []
    bt = ForecastBacktester(initial_train_size=60, test_size=10, step_size=10, retrain_frequency=35)
    res = bt.run_walk_forward_validation(
        candles, _fit(RidgeForecaster, 1), features=feats, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (len(res), len(res))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    refits = pd.Series(res["refit_origin"].unique())
    assert bt.n_refits_ == len(refits) == math.ceil(len(res) / 35)
    assert res["fold"].nunique() == math.ceil(len(res) / 10)


def test_trainer_for_and_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown model_type"):
        trainer_for("prophet", 1)
    with pytest.raises(ConfigError, match="no parameter"):
        trainer_for("naive", 1, n_estimators=5)
    candles = _candles(120)
    with pytest.raises(ConfigError, match="purge"):
        ForecastBacktester(horizon=3, purge=1).run_walk_forward_validation(
            candles, trainer_for("naive", 3), features=_features(candles)
        )
    with pytest.raises(DataError, match="too few to backtest"):
        ForecastBacktester(initial_train_size=500).run_walk_forward_validation(
            candles, trainer_for("naive", 1), features=_features(candles)
        )
    with pytest.raises(ConfigError, match="horizon 1, but this backtest's horizon is 7"):
        ForecastBacktester(horizon=7, initial_train_size=40).run_walk_forward_validation(
            candles, trainer_for("drift", 1), features=_features(candles)
        )
    with pytest.raises(DataError, match="no backtest results"):
        ForecastBacktester().calculate_aggregate_metrics()
    with pytest.raises(DataError, match="close"):
        ForecastBacktester().run_walk_forward_validation(
            candles[["volume"]], trainer_for("naive", 1)
        )
    bad = _features(candles)
    bad.iloc[60, 0] = np.nan
    with pytest.raises(DataError, match="after the warm-up"):
        ForecastBacktester(initial_train_size=20).run_walk_forward_validation(
            candles, trainer_for("naive", 1), features=bad
        )
