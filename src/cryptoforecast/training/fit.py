"""Fitting one model on rows it is handed: its parameters from the config, and top-k feature
selection as a forecaster step.

The lowest step of training: validation, tuning and the pipeline all get their forecasters from
:func:`new_forecaster` and fit them on rows they chose, so a fit never sees more than it is handed.
With ``feature_selection.top_k`` the forecaster is a :class:`TopKFeatures` step, which ranks the
features on its own training rows when it is fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from cryptoforecast.config import Settings
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.catalog import (
    MODEL_CLASSES,
    make_forecaster,
    model_class,
    model_classes,
)
from cryptoforecast.models.checks import check_is_fitted
from cryptoforecast.models.distribution.shapes import QUANTILES
from cryptoforecast.models.factory import params_for
from cryptoforecast.models.intervals import ConformalCalibrator
from cryptoforecast.models.probabilities import QuantileProbabilities

__all__ = [
    "TRAINABLE_MODELS",
    "TopKFeatures",
    "fit_forecaster",
    "model_params",
    "new_forecaster",
    "rank_features",
    "trainable_models",
]

#: the model types trained one asset at a time (the cross-asset ones train in ``global_model``)
TRAINABLE_MODELS: tuple[str, ...] = tuple(
    name for name, cls in MODEL_CLASSES.items() if not cls.cross_asset
)


def trainable_models() -> tuple[str, ...]:
    """:data:`TRAINABLE_MODELS` and the plug-ins loaded (``models.load_plugins``): every model
    type trained one asset at a time."""
    return tuple(name for name, cls in model_classes().items() if not cls.cross_asset)


#: ``rank(X, y) -> importance per feature, highest first``
Ranker = Callable[[pd.DataFrame, pd.Series], pd.Series]


def model_params(settings: Settings, model_type: str) -> dict[str, Any]:
    """Hyperparameters of ``model_type`` from the config; the ensemble also gets its bases'."""
    params: dict[str, Any] = dict(settings.model_params(model_type))
    if model_type == "ensemble":
        bases = params.get("base_models") or ["lightgbm", "lstm"]
        params["base_params"] = {
            b: settings.model_params(b)
            for b in bases
            if isinstance(b, str) and settings.model_params(b)
        }
    if model_type == "shrunk":
        params["base_params"] = settings.model_params(str(params.get("base", "lightgbm")))
    return params


def _construct(model_type: str, horizon: int, params: Mapping[str, Any], seed: int) -> Forecaster:
    trainable = trainable_models()
    if model_type not in trainable:
        raise ConfigError(f"unknown model_type {model_type!r}; use one of {', '.join(trainable)}")
    kwargs = params_for(model_class(model_type), params, random_state=seed)
    return make_forecaster(model_type, horizon=horizon, **kwargs)


def rank_features(
    model_type: str,
    horizon: int,
    X: pd.DataFrame,
    y: pd.Series,
    params: Mapping[str, Any],
    seed: int,
) -> pd.Series:
    """Feature importance learned from ``X``/``y`` only, highest first.

    Uses the model's own importance when it has one, else a small LightGBM fitted on the same
    rows. Ties keep the feature order of ``X`` (stable sort).
    """
    model = _construct(model_type, horizon, params, seed)
    model.fit(X, y)
    imp = model.feature_importance()
    if imp is None or len(imp) == 0:
        ranker = _construct("lightgbm", horizon, {"n_estimators": 200}, seed)
        ranker.fit(X, y)
        imp = ranker.feature_importance()
    if imp is None:  # pragma: no cover - LightGBM always has one
        raise DataError("could not rank features: no model gave a feature importance")
    imp = imp.reindex([str(c) for c in X.columns]).fillna(0.0).astype("float64")
    order = np.argsort(-imp.to_numpy(), kind="stable")
    return imp.iloc[order]


class TopKFeatures(QuantileProbabilities):
    """Top-k feature selection as a forecaster step: fitting ranks the features on the rows it is
    given (``rank(X, y)``), keeps the best ``k`` (in ``X``'s column order) and fits ``model`` on
    them; predicting reads those columns from any frame that holds them.

    The fitted ``model`` is what is saved, registered and served: its ``feature_names_`` are the
    kept columns, and the service hands every model its own columns. ``ranking_`` is the ranking
    the step learned.
    """

    def __init__(self, model: Forecaster, k: int, rank: Ranker) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"feature_selection.top_k must be a whole number >= 1, got {k!r}")
        self.model = model
        self.k = k
        self.rank = rank
        self.horizon = model.horizon

    @property
    def model_type(self) -> str:
        return self.model.model_type

    @property
    def lookback(self) -> int:
        """Rows the inner model reads per forecast (the backtester's context)."""
        return int(getattr(self.model, "lookback", 1) or 1)

    @property
    def calibrator_(self) -> ConformalCalibrator | None:
        """The inner model's conformal calibrator (adaptive intervals restart from it)."""
        return getattr(self.model, "calibrator_", None)

    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None = None,
        y_val: pd.Series | None = None,
    ) -> Self:
        if self.k >= X.shape[1]:
            self.ranking_ = pd.Series(dtype="float64")
            keep = [str(c) for c in X.columns]
        else:
            self.ranking_ = self.rank(X, y)
            chosen = set(self.ranking_.index[: self.k])
            keep = [str(c) for c in X.columns if str(c) in chosen]
        self.model.fit(X[keep], y)
        self.feature_names_ = keep
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        return self.model.predict(self._columns(X))

    def predict_interval(
        self, X: pd.DataFrame, coverage: float | None = None, level: Any = None
    ) -> pd.DataFrame:
        return self.model.predict_interval(self._columns(X), coverage, level)

    def predict_quantiles(
        self, X: pd.DataFrame, quantiles: Sequence[float] = QUANTILES
    ) -> pd.DataFrame:
        return self.model.predict_quantiles(self._columns(X), quantiles)

    def feature_importance(self) -> pd.Series | None:
        return self.model.feature_importance()

    def save_model(self, path: str | Path) -> Path:
        """Save the fitted inner model (it predicts from the kept columns)."""
        check_is_fitted(self)
        return self.model.save_model(path)

    def load_model(self, path: str | Path) -> Self:
        self.model.load_model(path)
        self.feature_names_ = list(self.model.feature_names_)
        return self

    def _columns(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise DataError(
                f"the frame lacks {len(missing)} of the {len(self.feature_names_)} selected "
                f"features ({missing[:5]}); build features with the feature set the model was "
                "trained with"
            )
        return X[self.feature_names_]


def new_forecaster(
    model_type: str,
    horizon: int,
    params: Mapping[str, Any],
    seed: int = 42,
    top_k: int | None = None,
) -> Forecaster:
    """A new, unfitted ``model_type`` with ``params``; with ``top_k`` (fewer than the features it
    is fitted on) wrapped in the :class:`TopKFeatures` step, which ranks on its own fit's rows."""
    model = _construct(model_type, horizon, params, seed)
    if top_k is None:
        return model
    rank = partial(rank_features, model_type, horizon, params=params, seed=seed)
    return TopKFeatures(model, top_k, rank)  # type: ignore[return-value]


def fit_forecaster(
    model_type: str,
    horizon: int,
    X: pd.DataFrame,
    y: pd.Series,
    params: Mapping[str, Any],
    seed: int = 42,
    top_k: int | None = None,
) -> Forecaster:
    """:func:`new_forecaster` fitted on ``X``/``y``; it predicts from a frame with all of ``X``'s
    columns either way."""
    return new_forecaster(model_type, horizon, params, seed, top_k).fit(X, y)
