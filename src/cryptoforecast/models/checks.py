"""Checks and small helpers every forecaster shares: fitted-ness, hyperparameter and feature
frame checks (errors worded like scikit-learn's, naming the value and the fix), the time-ordered
validation tail, the context rows a windowed model reads, importance shares, a data hash."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ConfigError, DataError, NotFittedError

__all__ = [
    "check_feature_frame",
    "check_fraction",
    "check_is_fitted",
    "check_whole",
    "context_rows",
    "frame_hash",
    "normalised_importance",
    "time_tail_split",
]


def check_is_fitted(model: Any, attribute: str = "feature_names_") -> None:
    """Raise :class:`NotFittedError` (worded like scikit-learn's) if ``model`` is not fitted."""
    if not hasattr(model, attribute):
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. Call 'fit' with appropriate "
            "arguments before using this estimator, or 'load_model' a saved one."
        )


def check_whole(model: Any, name: str, low: int = 1) -> int:
    """The hyperparameter ``name`` of ``model`` as an int ``>= low``, or :class:`ConfigError`."""
    value = getattr(model, name)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(
            f"{type(model).__name__} {name} must be a whole number >= {low}, got {value!r}"
        )
    return int(value)


def check_fraction(model: Any, name: str, example: float = 0.2) -> float:
    """The hyperparameter ``name`` of ``model`` as a float in ``[0, 1)``, or :class:`ConfigError`."""
    value = getattr(model, name)
    try:
        ok = 0 <= float(value) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            f"{type(model).__name__} {name} must be in [0, 1), got {value!r}; e.g. {example}"
        )
    return float(value)


def normalised_importance(values: Any, feature_names: list[str]) -> pd.Series:
    """Importances scaled to sum to 1 (all zeros when the model made no split), largest first."""
    raw = np.asarray(values, dtype="float64")
    total = raw.sum()
    share = raw / total if total > 0 else np.zeros_like(raw)
    return pd.Series(share, index=feature_names, name="importance").sort_values(ascending=False)


def context_rows(model: Any) -> int:
    """Rows before the last one that ``model`` reads to predict it: ``lookback - 1`` for windowed
    models (the LSTM, an ensemble holding one), 0 for row-wise models.

    Callers that want the forecast at one origin pass at least ``context_rows(model) + 1`` feature
    rows ending at that origin and take the last prediction.
    """
    return max(int(getattr(model, "lookback", 1) or 1), 1) - 1


def check_feature_frame(X: Any, name: str = "X", allow_empty: bool = False) -> pd.DataFrame:
    """A non-empty numeric DataFrame with finite values, or :class:`DataError` saying what is wrong."""
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"{name} must be a pandas DataFrame of features, got {type(X).__name__}")
    if X.empty and not allow_empty:
        raise DataError(
            f"{name} is empty ({X.shape[0]} rows x {X.shape[1]} columns); pass at least one row of "
            "features (after the warm-up rows are dropped)."
        )
    # from the dtypes, not column by column: building each column as a Series cost ~5 ms a call
    non_numeric = [c for c, dtype in X.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    if non_numeric:
        raise DataError(
            f"{name} has non-numeric columns {non_numeric[:5]}; features must be numbers"
        )
    values = X.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        first_row = X.index[rows[0]]
        cols_named = sorted({str(X.columns[c]) for c in cols})[:5]
        raise DataError(
            f"{name} has {int(bad.sum())} NaN/infinite value(s), first at {first_row} in "
            f"{cols_named}; drop the warm-up rows (features.warmup_rows) or fill the gaps first."
        )
    return X


def time_tail_split(
    X: pd.DataFrame, y: pd.Series, fraction: float, gap: int, min_rows: int = 10
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None, pd.Series | None]:
    """Split off the last ``fraction`` of rows as a validation tail, purging ``gap`` rows between.

    The purge removes training rows whose ``h``-step target window reaches into the tail, so no
    training label overlaps a validation origin. Returns ``(X_fit, y_fit, None, None)`` when there
    are too few rows for a tail.
    """
    n = len(X)
    n_val = int(round(n * fraction))
    if fraction <= 0 or n_val < min_rows or n - n_val - gap < min_rows:
        return X, y, None, None
    cut = n - n_val
    return X.iloc[: cut - gap], y.iloc[: cut - gap], X.iloc[cut:], y.iloc[cut:]


def frame_hash(X: pd.DataFrame, y: pd.Series | None = None) -> str:
    """A short content hash of the training data (values, index and column names)."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(X, index=True).to_numpy().tobytes())
    h.update("\x1f".join(map(str, X.columns)).encode())
    if y is not None:
        h.update(pd.util.hash_pandas_object(y, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]
