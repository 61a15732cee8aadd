"""One LightGBM model across coins, fitted on the pooled rows of every coin.

The approach mlforecast and the M5 winners use: instead of one model per coin, one model learns
from the rows of all coins at once (eight times the rows, the same scale-free features), with
cross-sectional features (:mod:`cryptoforecast.features.cross_section`) telling it how each coin
moved against the market. One fitted model serves every coin of its universe.

``fit(X, y)`` takes the pooled rows with a two-level index ``(time, crypto_id)``, sorted by time
(:func:`cryptoforecast.training.global_model.pool_rows` builds it). The early-stopping tail is
cut by *time*, not by row: the last ``validation_fraction`` of the distinct times, with a purge of
``horizon`` times before it, so no coin's training label overlaps any coin's tail. ``predict``
takes one coin's rows (a plain time index) like every other forecaster.

Saved like :class:`~cryptoforecast.models.lightgbm_model.LightGBMForecaster` (LightGBM's native
text model plus ``manifest.json``, no pickle); the manifest also lists the universe
(``extra.universe``): the coins whose candles the cross-sectional features must be built from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import pandas as pd

from cryptoforecast.exceptions import ArtifactError, DataError
from cryptoforecast.models.lightgbm_model import LightGBMForecaster

__all__ = ["GlobalLightGBMForecaster", "TIME_LEVEL", "COIN_LEVEL"]

TIME_LEVEL = "time"
COIN_LEVEL = "crypto_id"


def _check_pooled(X: Any) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame) or not isinstance(X.index, pd.MultiIndex):
        raise DataError(
            "the global model fits on pooled rows indexed by (time, crypto_id), got "
            f"{type(getattr(X, 'index', None)).__name__}; build them with "
            "cryptoforecast.training.global_model.pool_rows"
        )
    if list(X.index.names) != [TIME_LEVEL, COIN_LEVEL]:
        raise DataError(
            f"pooled rows must be indexed by {[TIME_LEVEL, COIN_LEVEL]}, got {list(X.index.names)}"
        )
    times = X.index.get_level_values(TIME_LEVEL)
    if not times.is_monotonic_increasing:
        raise DataError("pooled rows must be sorted by time (then coin); sort_index() them first")
    return X


class GlobalLightGBMForecaster(LightGBMForecaster):
    """LightGBM on the pooled rows of every coin of ``universe_`` (see the module docstring)."""

    model_type: ClassVar[str] = "global_lightgbm"
    tunable: ClassVar[bool] = False
    cross_asset: ClassVar[bool] = True
    universe_: list[str]

    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None = None,
        y_val: pd.Series | None = None,
    ) -> Self:
        """Fit on pooled rows indexed by ``(time, crypto_id)``; the tail is cut by time."""
        X = _check_pooled(X)
        if X_val is None:
            # a row-wise tail (the base class's) would purge `horizon` rows, not `horizon` times
            times = X.index.get_level_values(TIME_LEVEL)
            distinct = times.unique()
            n_val = int(round(len(distinct) * float(self.validation_fraction)))
            if n_val < 10 or len(distinct) - n_val - int(self.horizon) < 10:
                raise DataError(
                    f"the global model needs a time-ordered tail of at least 10 times after a "
                    f"purge of {self.horizon}: got {len(distinct)} distinct times with "
                    f"validation_fraction={self.validation_fraction!r}; pass more rows or a "
                    "validation_fraction in (0, 1)"
                )
            first_val = distinct[len(distinct) - n_val]
            last_fit = distinct[len(distinct) - n_val - int(self.horizon) - 1]
            X_val, y_val = X.loc[times >= first_val], y.loc[times >= first_val]
            X, y = X.loc[times <= last_fit], y.loc[times <= last_fit]
        super().fit(X, y, X_val, y_val)
        self.universe_ = sorted(set(map(str, X.index.get_level_values(COIN_LEVEL))))
        self.train_start_ = str(X.index.get_level_values(TIME_LEVEL).min())
        self.train_end_ = str(X_val.index.get_level_values(TIME_LEVEL).max())
        return self

    def _save_native(self, directory: Path) -> dict[str, Any]:
        extra = super()._save_native(directory)
        extra["universe"] = list(self.universe_)
        return extra

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        super()._load_native(directory, manifest)
        universe = (manifest.get("extra") or {}).get("universe")
        if (
            not isinstance(universe, list)
            or not universe
            or not all(isinstance(c, str) for c in universe)
        ):
            raise ArtifactError(
                f"{directory} is a global model without its universe (extra.universe must list "
                f"the coins it was trained on, got {universe!r:.100}); retrain it"
            )
        self.universe_ = list(universe)
