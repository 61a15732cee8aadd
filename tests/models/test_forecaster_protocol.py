"""``isinstance(model, Forecaster)`` holds for an unfitted model: the protocol checks the methods
and the hyperparameters a fresh instance has, never its fitted state."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptoforecast.models import make_forecaster
from cryptoforecast.models.base import BaseForecaster, Forecaster
from cryptoforecast.models.catalog import MODEL_CLASSES


@pytest.mark.parametrize("model_type", ["naive", "drift", "technical", "lightgbm", "xgboost"])
def test_an_unfitted_built_in_is_a_forecaster(model_type: str) -> None:
    assert isinstance(make_forecaster(model_type, horizon=1), Forecaster)


def test_a_users_unfitted_subclass_is_a_forecaster() -> None:
    class Mean(BaseForecaster):
        model_type = "mean_of_y"

        def _fit(self, X, y, X_val, y_val):  # type: ignore[no-untyped-def]
            self.mean_ = float(y.mean())

        def _predict(self, X: pd.DataFrame) -> pd.Series:
            return pd.Series(self.mean_, index=X.index)

    assert isinstance(Mean(horizon=7), Forecaster)


def test_an_object_without_the_methods_is_not_a_forecaster() -> None:
    class Half:
        horizon = 1
        model_type = "half"

        def fit(self, X, y):  # type: ignore[no-untyped-def]
            return self

    assert not isinstance(Half(), Forecaster)
    assert "naive" in MODEL_CLASSES
