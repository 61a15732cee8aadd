"""A user's forecaster, as a plug-in distribution would ship it: a ridge regression on the
momentum features (``ret_log_*``, ``mom_adj_*``), saved as its own JSON weights file."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models import BaseForecaster

__all__ = ["IMPORTED_ON", "RidgeMomentum"]

#: the thread that imported this module (the tests check it is the main thread)
IMPORTED_ON = threading.current_thread().name

MOMENTUM = ("ret_log_", "mom_adj_")
WEIGHTS = "ridge_momentum.json"


class RidgeMomentum(BaseForecaster):
    """Closed-form ridge on the momentum columns, standardised on the training rows."""

    model_type: ClassVar[str] = "cf_ridge"
    holds_out_residuals: ClassVar[bool] = True

    def __init__(self, horizon: int = 1, alpha: float = 10.0, random_state: int = 42) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.alpha = alpha

    def _columns(self, X: pd.DataFrame) -> list[str]:
        return [str(c) for c in X.columns if str(c).startswith(MOMENTUM)]

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        cols = self._columns(X)
        A = X[cols].to_numpy(dtype="float64")
        self.mean_, self.scale_ = A.mean(axis=0), A.std(axis=0) + 1e-12
        Z = (A - self.mean_) / self.scale_
        self.intercept_ = float(y.mean())
        gram = Z.T @ Z + self.alpha * np.eye(Z.shape[1])
        self.coef_ = np.linalg.solve(gram, Z.T @ (y.to_numpy() - self.intercept_))
        self.columns_ = cols

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        Z = (X[self.columns_].to_numpy(dtype="float64") - self.mean_) / self.scale_
        return pd.Series(self.intercept_ + Z @ self.coef_, index=X.index)

    def _save_native(self, directory: Path) -> dict[str, Any]:
        weights = {
            "columns": self.columns_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
        }
        (directory / WEIGHTS).write_text(json.dumps(weights), encoding="utf-8")
        return {"weights": WEIGHTS}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        try:
            w = json.loads((directory / WEIGHTS).read_text(encoding="utf-8"))
            self.columns_ = [str(c) for c in w["columns"]]
            self.mean_, self.scale_, self.coef_ = (
                np.asarray(w[k], dtype="float64") for k in ("mean", "scale", "coef")
            )
            self.intercept_ = float(w["intercept"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{directory / WEIGHTS}: unreadable ridge weights: {exc}") from exc
