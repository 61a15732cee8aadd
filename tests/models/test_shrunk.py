"""ShrunkForecaster: w = 0 without an out-of-fold edge, w near 1 with one, w never sees the future."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.models.shrunk import ShrunkForecaster, shrinkage_weight
from cryptoforecast.models.stacking import inner_folds
from tests.ridge import RidgeForecaster

H = 3


def frame(n: int = 900, signal: float = 0.0, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Three random features; the target is ``signal * x0`` plus noise (h-step overlapping)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2019-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    X = pd.DataFrame(rng.standard_normal((n, 3)), index=index, columns=["a", "b", "c"])
    noise = pd.Series(rng.standard_normal(n + H) * 0.02).rolling(H).sum().iloc[H:].to_numpy()
    y = pd.Series(signal * 0.02 * X["a"].to_numpy() + noise, index=index)
    return X, y


def test_weight_is_zero_on_noise_for_every_seed() -> None:
    for seed in range(5):
        X, y = frame(seed=seed)
        model = ShrunkForecaster(RidgeForecaster(horizon=H), horizon=H).fit(X, y)
        assert model.weight_ == 0.0, (seed, model.oof_slope_, model.oof_se_)
        assert np.allclose(model.predict(X.iloc[-50:]).to_numpy(), 0.0)


def test_weight_is_near_one_on_a_planted_signal() -> None:
    X, y = frame(signal=2.0, seed=1)
    model = ShrunkForecaster(RidgeForecaster(horizon=H), horizon=H).fit(X, y)
    assert 0.85 <= model.weight_ <= 1.0
    base = model.base_.predict(X.iloc[-50:])
    pd.testing.assert_series_equal(
        model.predict(X.iloc[-50:]), (model.weight_ * base).rename("y_pred")
    )


def test_weight_is_the_slopes_lower_bound_clipped() -> None:
    rng = np.random.default_rng(3)
    f = rng.standard_normal(400)
    y = 0.5 * f + rng.standard_normal(400)
    w, slope, se = shrinkage_weight(y, f, horizon=1, alpha=0.05)
    assert w == pytest.approx(max(0.0, min(1.0, slope - 1.6448536 * se)), rel=1e-6)
    assert shrinkage_weight(-y, f)[0] == 0.0  # a wrong-signed edge earns nothing
    assert shrinkage_weight(10 * f, f)[0] == 1.0  # never more than the base


class SpyRidge(RidgeForecaster):
    """Ridge that records, for every public ``predict``, its last training row and the rows."""

    model_type: ClassVar[str] = "spyridge"
    log: ClassVar[list[tuple[pd.Timestamp, pd.Index]]] = []

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        super()._fit(X, y, X_val, y_val)
        self._end = X.index[-1]

    def predict(self, X: pd.DataFrame) -> pd.Series:
        SpyRidge.log.append((self._end, X.index))
        return super().predict(X)


def test_fold_spy_weight_uses_out_of_fold_forecasts_only() -> None:
    X, y = frame(n=600, signal=2.0, seed=4)
    SpyRidge.log.clear()
    model = ShrunkForecaster(SpyRidge(horizon=H), inner_folds=3, horizon=H).fit(X, y)
    folds = inner_folds(600, 3, H)
    # w is chosen from exactly the three inner folds' forecasts (the final refit predicts nothing)
    assert len(SpyRidge.log) == 3
    for (stop, lo, hi), (end, rows) in zip(folds, SpyRidge.log, strict=True):
        assert end == X.index[stop - 1]
        assert rows.min() == X.index[lo] and rows.max() == X.index[hi - 1]
        # each forecast's origin is more than h rows after its model's last training row, so no
        # target that model saw reaches the forecast's origin
        assert X.index.get_loc(rows.min()) - X.index.get_loc(end) > H
    assert model.oof_summary_["n"] == 600 - folds[0][1]
    assert model.oof_train_ends_ == [str(X.index[f[0] - 1]) for f in folds]


def test_save_load_round_trip_keeps_weight_and_forecasts(tmp_path) -> None:  # noqa: ANN001
    from cryptoforecast.models import load_forecaster

    X, y = frame(signal=2.0, seed=2)
    model = ShrunkForecaster(
        "lightgbm", base_params={"n_estimators": 30, "early_stopping_rounds": 5}, horizon=H
    ).fit(X, y)
    path = model.save_model(tmp_path / "m")
    assert (path / "shrink.json").is_file() and (path / "base" / "manifest.json").is_file()
    assert not list(path.rglob("*.pkl"))
    loaded = load_forecaster(path)
    assert loaded.weight_ == model.weight_
    pd.testing.assert_series_equal(loaded.predict(X.iloc[-30:]), model.predict(X.iloc[-30:]))
