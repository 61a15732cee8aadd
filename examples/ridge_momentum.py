"""Your own model: a ridge regression on the momentum features, in one file.

Load it with the setting ``models.plugins: ["examples/ridge_momentum.py:RidgeMomentum"]`` (or
``CRYPTOFORECAST_MODELS__PLUGINS='["examples/ridge_momentum.py:RidgeMomentum"]'``); then
``cryptoforecast train bitcoin --model ridge_momentum`` trains, gates and registers it like a
built-in model, and ``forecast`` / ``serve`` serve it once promoted.

A plug-in subclasses ``BaseForecaster``: ``_fit`` and ``_predict`` learn and predict the
``horizon``-step log return; ``_save_native`` / ``_load_native`` write and read its own files
(hashed under the artifact's manifest; nothing is pickled).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.models import BaseForecaster

MOMENTUM = ("ret_log_", "mom_adj_")  # log returns over 1..30 candles, volatility-adjusted momentum


class RidgeMomentum(BaseForecaster):
    model_type: ClassVar[str] = "ridge_momentum"
    holds_out_residuals: ClassVar[bool] = True  # interval residuals from held-out rows

    def __init__(self, horizon: int = 1, alpha: float = 10.0, random_state: int = 42) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.alpha = alpha

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        self.columns_ = [str(c) for c in X.columns if str(c).startswith(MOMENTUM)]
        A = X[self.columns_].to_numpy(dtype="float64")
        self.mean_, self.scale_ = A.mean(axis=0), A.std(axis=0) + 1e-12
        Z = (A - self.mean_) / self.scale_
        self.intercept_ = float(y.mean())
        gram = Z.T @ Z + self.alpha * np.eye(Z.shape[1])
        self.coef_ = np.linalg.solve(gram, Z.T @ (y.to_numpy() - self.intercept_))

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        Z = (X[self.columns_].to_numpy(dtype="float64") - self.mean_) / self.scale_
        return pd.Series(self.intercept_ + Z @ self.coef_, index=X.index)

    def _save_native(self, directory: Path) -> dict[str, Any]:
        weights = {"columns": self.columns_, "intercept": self.intercept_}
        for name in ("mean_", "scale_", "coef_"):
            weights[name] = getattr(self, name).tolist()
        (directory / "ridge.json").write_text(json.dumps(weights), encoding="utf-8")
        return {}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        weights = json.loads((directory / "ridge.json").read_text(encoding="utf-8"))
        self.columns_ = [str(c) for c in weights["columns"]]
        self.intercept_ = float(weights["intercept"])
        for name in ("mean_", "scale_", "coef_"):
            setattr(self, name, np.asarray(weights[name], dtype="float64"))
