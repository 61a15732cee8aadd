"""``lightgbm_vol``: LightGBM on the features plus realised measures, target the log of the next
``h`` days' realised variance; the shape is a Student-t fitted to out-of-fold standardised
residuals (time-ordered folds, purged by ``h``), so in-sample fit never narrows the bands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.exceptions import ArtifactError, DataError
from cryptoforecast.models.distribution.shapes import StandardShape, fit_student_t
from cryptoforecast.models.distribution.volatility import (
    MarketData,
    VolatilityModel,
    ewma_variance,
    forward_sum,
    har_design,
)
from cryptoforecast.models.lightgbm_text import read_lightgbm_text
from cryptoforecast.models.stored_values import stored_names, stored_object

__all__ = ["LightGBMVol"]

NATIVE_FILE = "volatility_model.txt"


def _design(market: MarketData) -> pd.DataFrame:
    X = har_design(market).drop(columns="const")
    X["log_ewma_var"] = np.log(ewma_variance(market.returns).clip(lower=1e-10))
    if market.features is not None:
        X = X.join(market.features.reindex(X.index), how="left")
    return X.astype("float64")


class LightGBMVol(VolatilityModel):
    """Gradient-boosted log-variance model (small, single-threaded, deterministic)."""

    name = "lightgbm_vol"
    reads_intraday = True
    booster_: Any
    feature_names_: list[str]

    def __init__(
        self,
        horizon: int = 1,
        n_estimators: int = 150,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        n_folds: int = 3,
        random_state: int = 42,
    ) -> None:
        super().__init__(horizon)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_folds = n_folds
        self.random_state = random_state

    def _train(self, X: pd.DataFrame, y: pd.Series) -> Any:
        lgb = import_optional("lightgbm", "the lightgbm_vol volatility model")
        params = {
            "objective": "regression",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_child_samples": int(self.min_child_samples),
            "num_threads": 1,
            "deterministic": True,
            "seed": int(self.random_state),
            "verbose": -1,
        }
        data = lgb.Dataset(X.to_numpy(), y.to_numpy(), feature_name=list(X.columns))
        return lgb.train(params, data, num_boost_round=int(self.n_estimators))

    def _rows(self, market: MarketData) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        X = _design(market)
        rv = market.realized["rv"].clip(lower=1e-10)
        y = np.log(forward_sum(rv, int(self.horizon)))
        ok = X.notna().all(axis=1) & np.isfinite(y)
        target = forward_sum(market.returns, int(self.horizon))
        return X[ok], y[ok], target[ok]

    def fit(self, market: MarketData) -> LightGBMVol:
        X, y, target = self._rows(market)
        h, k = int(self.horizon), int(self.n_folds)
        if len(X) < 100 * (k + 1):
            raise DataError(
                f"lightgbm_vol needs {100 * (k + 1)} complete rows for {k} out-of-fold "
                f"calibration folds, got {len(X)}; load more history or lower n_folds"
            )
        cuts = np.linspace(len(X) // (k + 1), len(X), k + 1).astype(int)
        z = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            booster = self._train(X.iloc[: a - h], y.iloc[: a - h])
            pred = booster.predict(X.iloc[a:b].to_numpy())
            z.append(target.iloc[a:b].to_numpy() / np.exp(pred / 2))
        df, scale = fit_student_t(np.concatenate(z))
        self.shape_ = StandardShape("t", df=df, scale=scale)
        self.booster_ = self._train(X, y)
        self.feature_names_ = list(X.columns)
        return self

    def _raw_scale(self, market: MarketData) -> pd.Series:
        X = _design(market)
        if list(X.columns) != self.feature_names_:
            raise DataError(
                f"lightgbm_vol was fitted on {len(self.feature_names_)} columns but got "
                f"{X.shape[1]}; pass the same feature set it was fitted with"
            )
        out = pd.Series(np.nan, index=X.index)
        ok = X.notna().all(axis=1).to_numpy()
        if ok.any():
            out[ok] = np.exp(self.booster_.predict(X[ok].to_numpy()) / 2)
        return out

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["state"] = {"feature_names": self.feature_names_, "native_file": NATIVE_FILE}
        return out

    def native_text(self) -> str:
        return str(self.booster_.model_to_string())

    def _load_state(self, state: dict[str, Any], where: str) -> None:
        super()._load_state(state, where)
        state = stored_object(state, where, "volatility_model.state")
        self.feature_names_ = stored_names(
            state.get("feature_names"), where, "volatility_model.state.feature_names"
        )

    def load_native_file(self, file: Path, where: str) -> None:
        """Read the booster from ``file`` (checked in full first: LightGBM's parser crashes the
        process on a damaged text), refusing one whose feature count is not that of the state
        read from ``where``."""
        lgb = import_optional("lightgbm", "the lightgbm_vol volatility model")
        booster = lgb.Booster(model_str=read_lightgbm_text(file))
        if booster.num_feature() != len(self.feature_names_):
            raise ArtifactError(
                f"{file} expects {booster.num_feature()} features but {where} lists "
                f"{len(self.feature_names_)} in volatility_model.state.feature_names; the "
                "artifact is inconsistent. Restore it from a backup or retrain the model."
            )
        self.booster_ = booster
