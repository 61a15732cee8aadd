"""Forecasters: one protocol, many models. Classes are imported lazily (no torch on import).

``make_forecaster("lightgbm", horizon=7, **params)`` builds any model by name;
``from cryptoforecast.models import LightGBMForecaster`` works too.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cryptoforecast.exceptions import ConfigError

if TYPE_CHECKING:
    from cryptoforecast.models.base import Forecaster

__all__ = [
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
    "make_forecaster",
]

_CLASSES: dict[str, tuple[str, str]] = {
    "naive": ("cryptoforecast.models.baselines", "NaiveForecaster"),
    "drift": ("cryptoforecast.models.baselines", "DriftForecaster"),
    "technical": ("cryptoforecast.models.technical", "TechnicalAnalysisForecaster"),
    "lightgbm": ("cryptoforecast.models.lightgbm_model", "LightGBMForecaster"),
    "xgboost": ("cryptoforecast.models.xgboost_model", "XGBoostForecaster"),
    "lstm": ("cryptoforecast.models.lstm_model", "LSTMForecaster"),
    "ensemble": ("cryptoforecast.models.ensemble", "EnsembleForecaster"),
    "shrunk": ("cryptoforecast.models.shrunk", "ShrunkForecaster"),
    "global_lightgbm": ("cryptoforecast.models.global_model", "GlobalLightGBMForecaster"),
}
MODEL_TYPES: tuple[str, ...] = tuple(_CLASSES)
_OTHER = {
    "BaseForecaster": ("cryptoforecast.models.base", "BaseForecaster"),
    "Forecaster": ("cryptoforecast.models.base", "Forecaster"),
    "load_forecaster": ("cryptoforecast.models.artifacts", "load_forecaster"),
}


def model_class(model_type: str) -> type:
    """The forecaster class registered under ``model_type``."""
    try:
        module, name = _CLASSES[model_type]
    except KeyError:
        raise ConfigError(
            f"unknown model_type {model_type!r}; use one of {', '.join(MODEL_TYPES)}"
        ) from None
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def make_forecaster(model_type: str, horizon: int = 1, **params: Any) -> Forecaster:
    """Build an unfitted forecaster by name with plain keyword hyperparameters."""
    return model_class(model_type)(horizon=horizon, **params)  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    for table in (_OTHER, {v[1]: v for v in _CLASSES.values()}):
        if name in table:
            module, attr = table[name]
            return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'cryptoforecast.models' has no attribute {name!r}")
