"""The training window: a coin's candles with the features' warm-up on top, its features, target
and closes, cut to the last ``days`` complete rows.

Everything after loading works on :class:`TrainingData` only, so a fit never sees more than the
window it is handed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import DataError
from cryptoforecast.features import build_features, make_target, warmup_rows, without_groups

__all__ = ["TrainingData", "load_training_candles", "prepare_training_data"]


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
    exclude_groups: Sequence[str] = (),
) -> TrainingData:
    """Build features and target from ``candles`` and keep the last ``days`` complete rows.

    ``extra_features`` (on the candles' index, e.g. the global model's cross-sectional ones) are
    joined onto the built features before the window is cut. The columns of ``exclude_groups``
    (feature groups of :data:`~cryptoforecast.features.FEATURE_GROUPS`, e.g. the horizon's
    ``feature_selection.excluded_groups(h)``) are left out, so every fit on the window, and the
    saved model's ``feature_names_``, go without them.
    """
    if not isinstance(candles, pd.DataFrame) or candles.empty or "close" not in candles:
        raise DataError(
            f"training candles are empty or have no 'close' column (got "
            f"{type(candles).__name__} with columns {list(getattr(candles, 'columns', []))[:8]}); "
            "check the data source"
        )
    feats = without_groups(build_features(candles), exclude_groups)
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


def load_training_candles(
    crypto_id: str,
    days: int,
    horizon: int,
    source: str,
    end: Any,
    path: str | Path | None,
) -> pd.DataFrame:
    """The window's candles plus the features' warm-up (``days + warmup + horizon`` candles)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DataError(f"days must be a positive whole number of candles, got {days!r}")
    n = days + _warmup() + horizon
    kwargs: dict[str, Any] = {"days": n, "source": source, "end": end}
    if path is not None:
        kwargs["path"] = path
    if source in ("binance", "coingecko") and end is None:
        kwargs["refresh"] = True  # train on today's candles, not on a stale cache
    return load_ohlcv(crypto_id, **kwargs)
