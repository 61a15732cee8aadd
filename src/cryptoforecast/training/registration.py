"""What a trained model is registered with, and the registration itself.

``register_trained`` saves a fitted model into the registry (which picks the version and the
artifact's path under the key's lock), as ``staging`` with:

* metrics: :func:`stored_metrics`, the validation's flat dict
  (:meth:`~cryptoforecast.training.metrics.ValidationMetrics.to_dict`) with the gate's decision
  under ``"gate"``;
* config: :func:`config_record`, what was trained on what (model type, horizon, window, source,
  end) and the settings behind it, and for a plug-in's model the plug-in (``plugin``: its name
  and version);
* lineage: :func:`training_lineage`, the candles' hash, the features, the config's hash and the
  training window;

with the gate's decision recorded and, when it passed, promoted, in the same transaction
(:meth:`~cryptoforecast.registry.ModelRegistry.register_with_decision`). The training pipeline
and the served backtest's retrainings register through it; the global model registers its
shared artifact with every coin's decision in one transaction
(:meth:`~cryptoforecast.registry.ModelRegistry.register_shared`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cryptoforecast.models import plugin_for
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.registry.lineage import compute_lineage
from cryptoforecast.training.gate import GateDecision
from cryptoforecast.training.metrics import ValidationMetrics
from cryptoforecast.training.window import TrainingData

if TYPE_CHECKING:
    from cryptoforecast.models.base import Forecaster

__all__ = [
    "config_record",
    "json_safe",
    "register_trained",
    "registry_or_default",
    "stored_metrics",
    "training_lineage",
]


def stored_metrics(metrics: ValidationMetrics, decision: GateDecision) -> dict[str, Any]:
    """A model's metrics as the registry stores them: the validation's flat dict, then the
    gate's decision (every number behind it) under ``"gate"``."""
    return {**metrics.to_dict(), "gate": decision.to_dict()}


def registry_or_default(registry: Any) -> Any:
    """``registry``, or a new :class:`ModelRegistry` on the configured URL when it is None."""
    if registry is not None:
        return registry
    return ModelRegistry()


def json_safe(value: Any) -> Any:
    """``value`` as the registry stores it: NaN and infinities as ``None``, numpy scalars as
    Python numbers, times as ISO text, mappings and sequences element by element."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    return value


def config_record(
    model_type: str, horizon: int, days: int, source: str, end: Any, **rest: Any
) -> dict[str, Any]:
    """The config a model is registered with: what was trained, on what, then ``rest``."""
    return {
        "model_type": model_type,
        "horizon": horizon,
        "days": days,
        "source": source,
        "end": None if end is None else str(end),
        **rest,
    }


def training_lineage(
    data: TrainingData,
    feature_names: Sequence[str],
    config: Mapping[str, Any],
    source: str,
    candles: pd.DataFrame | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The lineage of a model trained on ``data`` (or on ``candles`` of its coin): the data's
    hash, the features, the config and the training window, then ``extra``."""
    return compute_lineage(
        data.candles if candles is None else candles,
        list(feature_names),
        config,
        data_source=source,
        interval=str(data.candles.attrs.get("interval", "1d")),
        extra={
            "train_start": str(data.start),
            "train_end": str(data.end),
            "n_train_rows": int(len(data.X)),
            "feature_set": data.feature_set,
            **extra,
        },
    )


def register_trained(
    registry: Any,
    model: Forecaster,
    data: TrainingData,
    crypto_id: str,
    model_type: str,
    horizon: int,
    metrics: ValidationMetrics,
    config: dict[str, Any],
    source: str,
    decision: GateDecision,
    retire_on_fail: bool = False,
) -> int:
    """Save and register as staging with its metrics (the gate's decision included), config,
    lineage and feature importance, record the gate's decision and promote on a pass, in one
    transaction; the model's id. A plug-in's model records the plug-in (its name and version)
    in its config: what a server must load to serve it."""
    plugin = plugin_for(model_type)
    if plugin is not None:
        config = {**config, "plugin": plugin.record()}
    importance = model.feature_importance()
    lineage = training_lineage(data, model.feature_names_, config, source)
    # the registry picks the version and the artifact's path and saves into it under the key's
    # lock, so concurrent trainers never clash; the row, the gate's decision and the promotion
    # (or retirement) are one transaction: a failure at any step registers nothing
    model_id = registry.register_with_decision(
        model.save_model,
        model_type,
        crypto_id,
        horizon,
        passed=decision.promote,
        gate_reason=decision.reason,
        retire_on_fail=retire_on_fail,
        metrics=json_safe(stored_metrics(metrics, decision)),
        config=json_safe(config),
        feature_importance=None if importance is None else json_safe(importance.to_dict()),
        lineage=json_safe(lineage),
        reason="trained by train_model_for_crypto",
    )
    return int(model_id)
