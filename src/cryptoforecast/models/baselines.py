"""Baselines every model must beat: naive (random walk) and drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.stored_values import MAX_ABS_LOG_RETURN, stored_number

__all__ = ["DriftForecaster", "NaiveForecaster"]


class NaiveForecaster(BaseForecaster):
    """``price[t+h] = price[t]``: a predicted log return of exactly 0."""

    model_type: ClassVar[str] = "naive"

    def _fit(
        self, X: pd.DataFrame, y: pd.Series, X_val: pd.DataFrame | None, y_val: pd.Series | None
    ) -> None:
        return None

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return pd.Series(0.0, index=X.index, dtype="float64")


class DriftForecaster(BaseForecaster):
    """Mean ``horizon``-step log return over the training window, as a constant forecast."""

    model_type: ClassVar[str] = "drift"

    def _fit(
        self, X: pd.DataFrame, y: pd.Series, X_val: pd.DataFrame | None, y_val: pd.Series | None
    ) -> None:
        self.drift_ = float(y.mean())

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return pd.Series(self.drift_, index=X.index, dtype="float64")

    def _save_native(self, directory: Path) -> dict[str, Any]:
        return {"drift": self.drift_}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.drift_ = stored_number(
            (manifest.get("extra") or {}).get("drift"),
            directory / MANIFEST,
            "extra.drift",
            low=-MAX_ABS_LOG_RETURN,
            high=MAX_ABS_LOG_RETURN,
        )
