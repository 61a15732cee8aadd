"""Forecasters: one protocol, many models. Names load lazily (no torch or lightgbm on import).

``make_forecaster("lightgbm", horizon=7, **params)`` builds any model by name;
``from cryptoforecast.models import LightGBMForecaster`` works too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptoforecast.compat import lazy_exports

if TYPE_CHECKING:
    from cryptoforecast.models.base import BaseForecaster, Forecaster
    from cryptoforecast.models.baselines import DriftForecaster, NaiveForecaster
    from cryptoforecast.models.catalog import (
        CROSS_ASSET_MODEL_TYPES,
        MODEL_TYPES,
        load_forecaster,
        load_plugins,
        load_registered,
        make_forecaster,
        model_class,
        model_classes,
        model_types,
        plugin_for,
    )
    from cryptoforecast.models.ensemble import EnsembleForecaster
    from cryptoforecast.models.global_model import GlobalLightGBMForecaster
    from cryptoforecast.models.lightgbm_model import LightGBMForecaster
    from cryptoforecast.models.lstm_model import LSTMForecaster
    from cryptoforecast.models.plugins import ENTRY_POINT_GROUP, Plugin
    from cryptoforecast.models.shrunk import ShrunkForecaster
    from cryptoforecast.models.technical import TechnicalAnalysisForecaster
    from cryptoforecast.models.xgboost_model import XGBoostForecaster

__all__ = [
    "CROSS_ASSET_MODEL_TYPES",
    "MODEL_TYPES",
    "BaseForecaster",
    "DriftForecaster",
    "EnsembleForecaster",
    "Forecaster",
    "GlobalLightGBMForecaster",
    "LSTMForecaster",
    "LightGBMForecaster",
    "NaiveForecaster",
    "ShrunkForecaster",
    "TechnicalAnalysisForecaster",
    "XGBoostForecaster",
    "load_forecaster",
    "load_plugins",
    "load_registered",
    "make_forecaster",
    "model_class",
    "model_classes",
    "model_types",
    "plugin_for",
    "ENTRY_POINT_GROUP",
    "Plugin",
    "COIN_LEVEL",
    "ConformalCalibrator",
    "MODEL_CLASSES",
    "QuantileProbabilities",
    "TIME_LEVEL",
    "check_is_fitted",
    "context_rows",
    "params_for",
    "resolve_purge",
    "train_rows",
    "walk_forward_splits",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BaseForecaster": "cryptoforecast.models.base",
        "Forecaster": "cryptoforecast.models.base",
        "NaiveForecaster": "cryptoforecast.models.baselines",
        "DriftForecaster": "cryptoforecast.models.baselines",
        "TechnicalAnalysisForecaster": "cryptoforecast.models.technical",
        "LightGBMForecaster": "cryptoforecast.models.lightgbm_model",
        "XGBoostForecaster": "cryptoforecast.models.xgboost_model",
        "LSTMForecaster": "cryptoforecast.models.lstm_model",
        "EnsembleForecaster": "cryptoforecast.models.ensemble",
        "ShrunkForecaster": "cryptoforecast.models.shrunk",
        "GlobalLightGBMForecaster": "cryptoforecast.models.global_model",
        "MODEL_TYPES": "cryptoforecast.models.catalog",
        "CROSS_ASSET_MODEL_TYPES": "cryptoforecast.models.catalog",
        "load_forecaster": "cryptoforecast.models.catalog",
        "load_registered": "cryptoforecast.models.catalog",
        "make_forecaster": "cryptoforecast.models.catalog",
        "model_class": "cryptoforecast.models.catalog",
        "load_plugins": "cryptoforecast.models.catalog",
        "model_classes": "cryptoforecast.models.catalog",
        "model_types": "cryptoforecast.models.catalog",
        "plugin_for": "cryptoforecast.models.catalog",
        "ENTRY_POINT_GROUP": "cryptoforecast.models.plugins",
        "Plugin": "cryptoforecast.models.plugins",
        "COIN_LEVEL": "cryptoforecast.models.global_model",
        "ConformalCalibrator": "cryptoforecast.models.intervals",
        "MODEL_CLASSES": "cryptoforecast.models.catalog",
        "QuantileProbabilities": "cryptoforecast.models.probabilities",
        "TIME_LEVEL": "cryptoforecast.models.global_model",
        "check_is_fitted": "cryptoforecast.models.checks",
        "context_rows": "cryptoforecast.models.checks",
        "params_for": "cryptoforecast.models.factory",
        "resolve_purge": "cryptoforecast.models.splits",
        "train_rows": "cryptoforecast.models.splits",
        "walk_forward_splits": "cryptoforecast.models.splits",
    },
)
