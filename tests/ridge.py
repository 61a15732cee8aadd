"""A tiny closed-form ridge forecaster that the backtester tests share (row-wise, deterministic)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.models.base import BaseForecaster

__all__ = ["RidgeForecaster", "TailRidgeForecaster"]


class RidgeForecaster(BaseForecaster):
    """A row-wise linear model (closed-form ridge): small, deterministic, fitted state."""

    model_type: ClassVar[str] = "ridge"

    def __init__(self, horizon: int = 1, alpha: float = 1.0, random_state: int = 42) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.alpha = alpha

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        A = np.column_stack([np.ones(len(X)), X.to_numpy()])
        reg = self.alpha * np.eye(A.shape[1])
        reg[0, 0] = 0.0
        self.coef_ = np.linalg.solve(A.T @ A + reg, A.T @ y.to_numpy())

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return pd.Series(self.coef_[0] + X.to_numpy() @ self.coef_[1:], index=X.index)


class TailRidgeForecaster(RidgeForecaster):
    """The same ridge with held-out conformal residuals (like the boosted models)."""

    uses_validation_tail: ClassVar[bool] = True

    def __init__(
        self,
        horizon: int = 1,
        alpha: float = 1.0,
        validation_fraction: float = 0.3,
        random_state: int = 42,
    ) -> None:
        super().__init__(horizon=horizon, alpha=alpha, random_state=random_state)
        self.validation_fraction = validation_fraction
