"""Why a registered production model may not serve a forecast: its artifact is gone (rather than
changed), or it was trained on candles after the forecast's origin (an in-sample forecast)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from cryptoforecast.registry.record import ModelRecord

__all__ = ["is_missing", "trained_after"]


def is_missing(record: ModelRecord) -> bool:
    """True when the artifact or one of its registered files is gone (vs. changed)."""
    path = record.artifact_path
    if not path.exists():
        return True
    if path.is_file():
        return False
    return any(not (path / name).is_file() for name in record.artifact_files)


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
