"""Fitting one model on a training window: the window's data, optional top-k feature selection.

The lowest step of training: validation, tuning and the pipeline all fit through
:func:`fit_forecaster`, on rows they chose, so a fit never sees more than it is handed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.config import Settings
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.features import build_features, make_target, warmup_rows
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.catalog import MODEL_CLASSES, make_forecaster, model_class
from cryptoforecast.models.distribution.shapes import QUANTILES
from cryptoforecast.models.factory import params_for
from cryptoforecast.models.probabilities import QuantileProbabilities

__all__ = [
    "TRAINABLE_MODELS",
    "ModelTrainer",
    "TrainingData",
    "fit_forecaster",
    "load_training_candles",
    "model_params",
    "prepare_training_data",
    "rank_features",
    "trainer_for",
    "unwrap",
]

#: the model types trained one asset at a time (the cross-asset ones train in ``global_training``)
TRAINABLE_MODELS: tuple[str, ...] = tuple(
    name for name, cls in MODEL_CLASSES.items() if not cls.cross_asset
)


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
@dataclass
class TrainingData:
    """The training window: candles (with warm-up on top), features, target and closes.

    ``X``, ``y`` and ``close`` cover the window's rows that have a known target (the last
    ``horizon`` rows of the window cannot be labelled yet and are left out).
    """

    candles: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series
    close: pd.Series
    horizon: int
    feature_set: str | None = None
    features: pd.DataFrame | None = None

    @property
    def start(self) -> pd.Timestamp:
        return self.X.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.X.index[-1]


def _warmup() -> int:
    """Rows of history the features need before their first complete row."""
    return int(warmup_rows())


def prepare_training_data(
    candles: pd.DataFrame,
    days: int,
    horizon: int,
    extra_features: pd.DataFrame | None = None,
) -> TrainingData:
    """Build features and target from ``candles`` and keep the last ``days`` complete rows.

    ``extra_features`` (on the candles' index, e.g. the global model's cross-sectional ones) are
    joined onto the built features before the window is cut.
    """
    if not isinstance(candles, pd.DataFrame) or candles.empty or "close" not in candles:
        raise DataError(
            f"training candles are empty or have no 'close' column (got "
            f"{type(candles).__name__} with columns {list(getattr(candles, 'columns', []))[:8]}); "
            "check the data source"
        )
    feats = build_features(candles)
    if extra_features is not None:
        attrs = dict(feats.attrs)
        feats = feats.join(extra_features.reindex(feats.index))
        feats.attrs.update(attrs)
    target = make_target(candles, horizon)
    complete = feats.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise DataError(
            f"no row of the {len(candles)} candles has a complete feature vector; load more "
            "history (the features need warm-up rows)"
        )
    first = int(np.argmax(complete))
    window = feats.iloc[first:].iloc[-days:]
    if len(window) < days:
        raise DataError(
            f"{len(candles)} candles give only {len(window)} complete feature rows (the features "
            f"need {first} rows of warm-up), fewer than the {days}-day training window asked for; "
            f"train on days <= {len(window)} or load a longer history"
        )
    if not window.notna().all(axis=None):
        bad = window.columns[window.isna().any()].tolist()[:5]
        raise DataError(
            f"features have gaps after the warm-up in columns {bad}; the candles probably have "
            "missing or invalid values: repair or refresh the data"
        )
    y = target.reindex(window.index)
    known = y.notna().to_numpy()
    X = window.loc[known].astype("float64")
    y = y.loc[known].astype("float64")
    close = candles["close"].reindex(X.index).astype("float64")
    return TrainingData(
        candles=candles,
        X=X,
        y=y,
        close=close,
        horizon=horizon,
        feature_set=feats.attrs.get("feature_set"),
        features=feats,
    )


async def load_training_candles(
    crypto_id: str,
    days: int,
    horizon: int,
    source: str,
    end: Any,
    path: str | Path | None,
) -> pd.DataFrame:
    """The window's candles plus the features' warm-up, read in a worker thread."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DataError(f"days must be a positive whole number of candles, got {days!r}")
    n = days + _warmup() + horizon
    kwargs: dict[str, Any] = {"days": n, "source": source, "end": end}
    if path is not None:
        kwargs["path"] = path
    if source in ("binance", "coingecko") and end is None:
        kwargs["refresh"] = True  # train on today's candles, not on a stale cache
    return await asyncio.to_thread(load_ohlcv, crypto_id, **kwargs)


# --------------------------------------------------------------------------------------------
# fitting, with optional feature selection
# --------------------------------------------------------------------------------------------
class _ColumnSubset(QuantileProbabilities):
    """A fitted forecaster that sees only ``columns`` of whatever frame it is given.

    Used inside validation folds after top-k selection, so the backtester can pass the full
    feature frame. Never saved: the final model is saved as the inner forecaster itself.
    """

    def __init__(self, inner: Forecaster, columns: list[str]) -> None:
        self.inner = inner
        self.columns = list(columns)
        self.horizon = inner.horizon
        self.model_type = inner.model_type
        self.feature_names_ = list(columns)

    def fit(
        self, X: pd.DataFrame, y: pd.Series, X_val: Any = None, y_val: Any = None
    ) -> _ColumnSubset:
        self.inner.fit(X[self.columns], y)
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        return self.inner.predict(X[self.columns])

    def predict_interval(
        self, X: pd.DataFrame, coverage: float | None = None, level: Any = None
    ) -> pd.DataFrame:
        return self.inner.predict_interval(X[self.columns], coverage, level)

    def predict_quantiles(self, X: pd.DataFrame, quantiles: Any = QUANTILES) -> pd.DataFrame:
        return self.inner.predict_quantiles(X[self.columns], quantiles)

    def feature_importance(self) -> pd.Series | None:
        return self.inner.feature_importance()

    def save_model(self, path: str | Path) -> Path:
        return self.inner.save_model(path)

    def load_model(self, path: str | Path) -> _ColumnSubset:
        self.inner.load_model(path)
        return self

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


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
    if model_type not in TRAINABLE_MODELS:
        raise ConfigError(
            f"unknown model_type {model_type!r}; use one of {', '.join(TRAINABLE_MODELS)}"
        )
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


def fit_forecaster(
    model_type: str,
    horizon: int,
    X: pd.DataFrame,
    y: pd.Series,
    params: Mapping[str, Any],
    seed: int = 42,
    top_k: int | None = None,
) -> Forecaster:
    """Fit ``model_type`` on ``X``/``y`` with ``params``; with ``top_k`` keep the best k features.

    Features are ranked on ``X``/``y`` (the rows this fit may see) and nothing else. The result
    predicts from a frame with all of ``X``'s columns either way.
    """
    if top_k is not None and 0 < top_k < X.shape[1]:
        ranking = rank_features(model_type, horizon, X, y, params, seed)
        keep_set = set(ranking.index[:top_k])
        keep = [str(c) for c in X.columns if str(c) in keep_set]
        inner = _construct(model_type, horizon, params, seed)
        inner.fit(X[keep], y)
        inner.feature_ranking_ = ranking  # type: ignore[attr-defined]
        return _ColumnSubset(inner, keep)  # type: ignore[return-value]
    model = _construct(model_type, horizon, params, seed)
    return model.fit(X, y)


def unwrap(model: Forecaster) -> Forecaster:
    """The forecaster fitted inside ``model`` (``model`` itself unless top-k feature selection
    wrapped it)."""
    return model.inner if isinstance(model, _ColumnSubset) else model  # type: ignore[return-value]


#: ``model_trainer_fn(X_train, y_train) -> fitted Forecaster``
ModelTrainer = Callable[[pd.DataFrame, pd.Series], Forecaster]


def trainer_for(model_type: str, horizon: int = 1, **params: Any) -> ModelTrainer:
    """A ``model_trainer_fn``: ``make_forecaster(model_type, horizon, **params).fit(X, y)``.

    Raises :class:`ConfigError` at once for an unknown model type or parameter.
    """
    params = params_for(model_class(model_type), params, strict=True)

    def train(X_train: pd.DataFrame, y_train: pd.Series) -> Forecaster:
        model = make_forecaster(model_type, horizon=horizon, **params)
        return model.fit(X_train, y_train)

    train.__name__ = f"train_{model_type}"
    train.__qualname__ = train.__name__
    return train
