"""Why a registered production model may not serve a forecast: its artifact is gone (rather than
changed), it was trained on candles after the forecast's origin (an in-sample forecast), or the
plug-in that provides its model type is not loaded in this process."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cryptoforecast.models import model_types

if TYPE_CHECKING:
    from cryptoforecast.registry.record import ModelRecord

__all__ = ["is_missing", "missing_plugin", "trained_after"]


def is_missing(record: ModelRecord) -> bool:
    """True when the artifact or one of its registered files is gone (vs. changed)."""
    path = record.artifact_path
    if not path.exists():
        return True
    if path.is_file():
        return False
    return any(not (path / name).is_file() for name in record.artifact_files)


def missing_plugin(record: ModelRecord) -> str | None:
    """Why ``record`` cannot load here: its model type comes from a plug-in (named in its
    registry config) that this process did not load; ``None`` otherwise. The plug-in's name is
    an entry-point name, ``module:Class`` or ``file.py:Class`` (never a directory)."""
    plugin = (record.config or {}).get("plugin")
    if not isinstance(plugin, dict) or record.model_type in model_types():
        return None
    name = str(plugin.get("name") or record.model_type)
    version = plugin.get("version")
    named = f"{name} {version}" if version else name
    return (
        f"model {record.model_id} needs plug-in {named}, not loaded: add it to models.plugins "
        "and restart the service"
    )


def trained_after(record: ModelRecord, as_of: pd.Timestamp) -> str | None:
    """Why ``record`` must not forecast from ``as_of``: it was trained on later candles.

    Its forecast would be in-sample (the model may have fitted the very close it forecasts),
    e.g. forecasting "as of" an earlier date, or serving from a source that ends before the
    training data did. ``None`` when the lineage shows no later candle (or has no last candle).
    """
    last = (record.lineage or {}).get("last_candle")
    if not last:
        return None
    try:
        trained_to = pd.Timestamp(last)
    except (TypeError, ValueError):
        return None
    if trained_to.tzinfo is None:
        trained_to = trained_to.tz_localize("UTC")
    if trained_to <= as_of:
        return None
    return (
        f"model trained after the forecast origin: model {record.model_id} was trained on "
        f"candles up to {trained_to.isoformat()}, after this forecast's last candle "
        f"{as_of.isoformat()}, so its forecast would be in-sample; forecast from newer candles "
        "(a fresher data source) or promote a model trained before this origin"
    )
