"""What the gradient-boosted forecasters share: fitting with early stopping on the validation
tail, predicting, split-gain importances, and the booster's native weights file out and in.

:class:`BoosterForecaster` holds one booster (``booster_``), cut to the trees in use, and saves it
in its library's own format (LightGBM text, XGBoost JSON), refusing on load weights whose feature
count disagrees with the manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.artifacts import weights_file
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.checks import (
    check_fraction,
    check_is_fitted,
    check_whole,
    normalised_importance,
)
from cryptoforecast.models.stored_values import stored_whole

__all__ = ["BoosterForecaster"]

#: a booster's training data: features and targets as float64 arrays
Rows = tuple[np.ndarray, np.ndarray]


class BoosterForecaster(BaseForecaster):
    """A direct gradient-boosted regressor whose learned state is one booster (``booster_``).

    Early stopping watches the time-ordered validation tail (the base class cuts it, purged by
    ``horizon``); the booster kept is cut at its best iteration, so the tail's residuals are out of
    sample and the saved model and the predictions agree.

    Subclasses set ``module`` (the library imported through ``import_optional``), ``library``
    (for messages) and ``weights_name`` (the file), store the hyperparameters ``n_estimators``,
    ``validation_fraction``, ``early_stopping_rounds`` and ``n_jobs`` among their own, and
    implement:
        ``_booster_params() -> dict``: the library's parameters.
        ``_train(lib, params, train, tail) -> (booster, best_iteration)``: boost on ``train``,
            stopping early on ``tail`` (``None`` when there is none).
        ``_booster_predict(values) -> array`` and ``_split_gain() -> array`` (one per feature).
        ``_read_booster(file)`` and ``_booster_shape(booster) -> (n_features, n_trees)``.
    """

    module: ClassVar[str] = "booster"
    library: ClassVar[str] = "booster"
    weights_name: ClassVar[str] = "model.bin"
    uses_validation_tail: ClassVar[bool] = True
    booster_: Any
    best_iteration_: int

    def _import_library(self) -> Any:
        return import_optional(self.module, f"{self.library}Forecaster")

    def _booster_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _train(
        self, lib: Any, params: dict[str, Any], train: Rows, tail: Rows | None
    ) -> tuple[Any, int]:
        raise NotImplementedError

    def _booster_predict(self, values: np.ndarray) -> Any:
        raise NotImplementedError

    def _split_gain(self) -> np.ndarray:
        raise NotImplementedError

    def _read_booster(self, file: Path) -> Any:
        raise NotImplementedError

    @staticmethod
    def _booster_shape(booster: Any) -> tuple[int, int]:
        raise NotImplementedError

    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> None:
        lib = self._import_library()
        check_whole(self, "n_estimators")
        check_fraction(self, "validation_fraction")
        params = self._booster_params()
        tail = None
        if X_val is not None and y_val is not None and len(X_val) > 0:
            tail = (X_val.to_numpy(dtype="float64"), y_val.to_numpy(dtype="float64"))
        train = (X.to_numpy(dtype="float64"), y.to_numpy(dtype="float64"))
        self.booster_, self.best_iteration_ = self._train(lib, params, train, tail)

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        values = self._booster_predict(X.to_numpy(dtype="float64"))
        return pd.Series(np.asarray(values, dtype="float64"), index=X.index)

    def feature_importance(self) -> pd.Series | None:
        """Total split gain per feature, normalised to sum to 1 (all zeros if no split was made)."""
        check_is_fitted(self)
        return normalised_importance(self._split_gain(), self.feature_names_)

    def _save_native(self, directory: Path) -> dict[str, Any]:
        self.booster_.save_model(str(directory / self.weights_name))
        return {"weights": self.weights_name, "best_iteration": self.best_iteration_}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        file = weights_file(directory, self.weights_name, self.library)
        booster = self._read_booster(file)
        n_features, n_trees = self._booster_shape(booster)
        weights_file(directory, self.weights_name, self.library, manifest, n_features)
        self.booster_ = booster
        best = (manifest.get("extra") or {}).get("best_iteration", n_trees)
        self.best_iteration_ = stored_whole(
            best, directory / MANIFEST, "extra.best_iteration", low=0
        )
