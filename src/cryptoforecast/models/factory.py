"""The base forecasters by name: what an ensemble may hold, built or loaded from an artifact.

:mod:`~cryptoforecast.models.catalog` adds the ensemble itself to this table; the split keeps
the ensemble, which builds its bases by name, free of an import cycle with the catalog.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models.artifacts import read_manifest
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.baselines import DriftForecaster, NaiveForecaster
from cryptoforecast.models.lightgbm_model import LightGBMForecaster
from cryptoforecast.models.lstm_model import LSTMForecaster
from cryptoforecast.models.technical import TechnicalAnalysisForecaster
from cryptoforecast.models.xgboost_model import XGBoostForecaster

__all__ = ["BASE_CLASSES", "build", "class_for", "load_with", "params_for"]

#: model_type -> class of every forecaster an ensemble may hold
BASE_CLASSES: dict[str, type[BaseForecaster]] = {
    "naive": NaiveForecaster,
    "drift": DriftForecaster,
    "technical": TechnicalAnalysisForecaster,
    "lightgbm": LightGBMForecaster,
    "xgboost": XGBoostForecaster,
    "lstm": LSTMForecaster,
}


def class_for(classes: dict[str, type[BaseForecaster]], model_type: str) -> type[BaseForecaster]:
    """The class registered under ``model_type`` in ``classes``, or a ConfigError naming them."""
    try:
        return classes[model_type]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown model_type {model_type!r}; use one of {', '.join(classes)}"
        ) from None


def params_for(
    cls: type,
    params: Mapping[str, Any],
    *,
    random_state: int | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """The keyword arguments of ``params`` that ``cls``'s constructor takes.

    ``horizon`` is left out (it is given apart, e.g. by :func:`build`). A name ``cls`` does not
    take is dropped, or with ``strict`` refused with a ConfigError naming the valid ones (a
    config section may hold more than one model reads; a caller's own parameters may not).
    ``random_state``, when given, fills in the seed of a class that takes one and has none.
    """
    accepted = inspect.signature(cls).parameters
    unknown = sorted(k for k in params if k not in accepted)
    if strict and unknown:
        raise ConfigError(
            f"{cls.__name__} has no parameter(s) {unknown}; valid parameters: {sorted(accepted)}"
        )
    kwargs = {k: v for k, v in params.items() if k in accepted and k != "horizon"}
    if random_state is not None and "random_state" in accepted:
        kwargs.setdefault("random_state", random_state)
    return kwargs


def build(
    classes: dict[str, type[BaseForecaster]], model_type: str, horizon: int, **params: Any
) -> BaseForecaster:
    """An unfitted forecaster of ``model_type`` with plain keyword hyperparameters."""
    return class_for(classes, model_type)(horizon=horizon, **params)


def load_with(classes: dict[str, type[BaseForecaster]], path: str | Path) -> BaseForecaster:
    """Load a saved model directory, choosing its class in ``classes`` from its manifest."""
    path = Path(path)
    manifest = read_manifest(path)
    model = build(classes, manifest["model_type"], int(manifest["horizon"]))
    return model.load_model(path)
