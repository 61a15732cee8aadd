"""The backtester's frames: features, target and context in, per-origin forecasts out.

Pure functions the walk in :mod:`~cryptoforecast.training.backtester` is built from: the
inputs it walks over (:func:`prepare_frames`), one block of origins predicted by the model in
force (:func:`predict_block`), and the price-level results frame (:func:`assemble_results`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ConfigError, DataError, NotFittedError
from cryptoforecast.features import build_features, make_target
from cryptoforecast.models.base import Forecaster, context_rows
from cryptoforecast.models.distribution import VOLATILITY_MODELS
from cryptoforecast.models.splits import resolve_purge

__all__ = [
    "assemble_results",
    "check_horizon",
    "check_params",
    "coverage_tag",
    "mean_importance",
    "normalised_importance_of",
    "predict_block",
    "prepare_frames",
]


def coverage_tag(coverage: float) -> str:
    """Column suffix of a coverage level: ``0.8 -> "80"``, ``0.95 -> "95"``."""
    return f"{round(coverage * 100):d}"


def check_params(bt: Any) -> int:
    """Check a :class:`ForecastBacktester`'s settings, naming a bad one and the fix; returns the
    purge gap in rows."""
    for name in (
        "initial_train_size",
        "test_size",
        "step_size",
        "retrain_frequency",
        "horizon",
    ):
        value = getattr(bt, name)
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
    if bt.window not in ("expanding", "sliding"):
        raise ConfigError(f"window must be 'expanding' or 'sliding', got {bt.window!r}")
    for c in bt.interval_coverage:
        if not 0.0 < float(c) < 1.0:
            raise ConfigError(f"each interval_coverage must be strictly between 0 and 1, got {c!r}")
    if bt.interval_method not in ("split", "aci"):
        raise ConfigError(f"interval_method must be 'split' or 'aci', got {bt.interval_method!r}")
    gamma = bt.aci_gamma
    if (
        isinstance(gamma, bool)
        or not isinstance(gamma, int | float)
        or not 0.0 < float(gamma) < 1.0
    ):
        raise ConfigError(
            f"aci_gamma must be a number strictly between 0 and 1 (e.g. 0.01), got {gamma!r}"
        )
    if bt.test_origins is not None and (
        isinstance(bt.test_origins, bool)
        or not isinstance(bt.test_origins, int)
        or bt.test_origins < 1
    ):
        raise ConfigError(
            f"test_origins must be None or a whole number >= 1, got {bt.test_origins!r}"
        )
    if bt.distribution is not None and bt.distribution not in VOLATILITY_MODELS:
        raise ConfigError(
            f"unknown distribution {bt.distribution!r}; use one of "
            f"{', '.join(VOLATILITY_MODELS)} or None"
        )
    return resolve_purge(bt.horizon, bt.purge)


def prepare_frames(
    data: pd.DataFrame,
    horizon: int,
    features: pd.DataFrame | None = None,
    market: pd.DataFrame | pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Features ``X`` (complete rows only), target ``y`` and per-row context for ``data``.

    The context frame holds ``close`` at each row, the true close ``h`` rows later, its
    timestamp and the next candle's simple return (for the trading metrics).
    """
    if not isinstance(data, pd.DataFrame) or "close" not in data.columns:
        raise DataError(
            f"data must be a candle DataFrame with a 'close' column (load_ohlcv), got "
            f"{type(data).__name__}"
        )

    h = int(horizon)
    if features is None:
        features = build_features(data, market)
    elif not features.index.equals(data.index):
        missing = data.index.difference(features.index)
        if len(missing):
            raise DataError(
                f"features lack {len(missing)} of the candles' timestamps "
                f"(first {missing[0]}); "
                "build them from the same candles (build_features(data))"
            )
        features = features.loc[data.index]
    values = features.to_numpy(dtype="float64", na_value=np.nan)
    complete = np.isfinite(values).all(axis=1)
    if not complete.any():
        raise DataError(
            f"no row of the {features.shape[1]} features is complete in {len(data)} candles; "
            "load more history (features need a warm-up)"
        )
    first = int(np.argmax(complete))
    if not complete[first:].all():
        bad = features.index[first + int(np.argmin(complete[first:]))]
        raise DataError(
            f"features have NaN/infinite values after the warm-up, first at {bad}; fill or "
            "drop the candle gap there before backtesting"
        )
    close = data["close"].astype("float64")
    context = pd.DataFrame(
        {
            "close": close,
            "close_at_target": close.shift(-h),
            "target_time": pd.Series(data.index, index=data.index).shift(-h),
            "next_return": close.shift(-1) / close - 1.0,
        },
        index=data.index,
    )
    y = make_target(data, h)
    sl = slice(first, None)
    return features.iloc[sl], y.iloc[sl], context.iloc[sl]


def predict_block(
    model: Forecaster,
    X: pd.DataFrame,
    block: np.ndarray,
    coverages: Sequence[float],
    static: bool = True,
) -> tuple[pd.DataFrame, str | None]:
    """Point forecasts and, if ``static``, the model's own intervals (log returns) for the
    origins in ``block``; also why the intervals are NaN, if they are."""
    a, b = int(block[0]), int(block[-1]) + 1
    index = X.index[a:b]
    lo = max(0, a - context_rows(model))
    pred = model.predict(X.iloc[lo:b]).reindex(index)
    if pred.isna().any() and lo > 0:  # the model reads more history than it says: give it all
        lo = 0
        pred = model.predict(X.iloc[lo:b]).reindex(index)
    if pred.isna().any():
        raise DataError(
            f"{type(model).__name__} gave no forecast for {int(pred.isna().sum())} origin(s) "
            f"from {pred.index[pred.isna()][0]} even with {a} rows of history before the block"
        )
    out = pd.DataFrame({"y_pred_logret": pred.to_numpy(dtype="float64")}, index=index)
    note = None
    for c in coverages:
        tag = coverage_tag(c)
        lower = upper = np.full(len(index), np.nan)
        if static:
            try:
                band = model.predict_interval(X.iloc[lo:b], coverage=float(c)).reindex(index)
                lower, upper = band["lower"].to_numpy(), band["upper"].to_numpy()
            except (NotImplementedError, AttributeError):  # a model without intervals
                pass
            except NotFittedError as exc:  # too few out-of-sample residuals to calibrate
                note = str(exc)
        out[f"lower_{tag}_logret"] = lower
        out[f"upper_{tag}_logret"] = upper
    return out, note


def assemble_results(
    raw: pd.DataFrame,
    y: pd.Series,
    ctx: pd.DataFrame,
    horizon: int,
    coverages: Sequence[float],
    interval_method: str,
) -> pd.DataFrame:
    """Turn per-origin log-return forecasts into the price-level results frame."""
    idx = raw.index
    c = ctx.loc[idx]
    close = c["close"].to_numpy()
    out = pd.DataFrame(
        {
            "origin": idx,
            "target_time": c["target_time"].to_numpy(),
            "horizon": int(horizon),
            "fold": raw["fold"].to_numpy(),
            "close_at_origin": close,
            "y_true": c["close_at_target"].to_numpy(),
            "y_pred": close * np.exp(raw["y_pred_logret"].to_numpy()),
            "naive": close,
        }
    )
    for cov in coverages:
        tag = coverage_tag(cov)
        out[f"lower_{tag}"] = close * np.exp(raw[f"lower_{tag}_logret"].to_numpy())
        out[f"upper_{tag}"] = close * np.exp(raw[f"upper_{tag}_logret"].to_numpy())
    out["y_true_logret"] = y.loc[idx].to_numpy()
    out["y_pred_logret"] = raw["y_pred_logret"].to_numpy()
    out["next_return"] = c["next_return"].to_numpy()
    for key in ("model_type", "refit_origin", "train_start", "train_end", "n_train"):
        out[key] = raw[key].to_numpy()
    out["interval_method"] = interval_method
    return out


def check_horizon(model: Any, horizon: int) -> None:
    """Refuse a model built for another horizon: its internal purges would be too short."""
    model_h = getattr(model, "horizon", None)
    if model_h is not None and int(model_h) != horizon:
        raise ConfigError(
            f"model_trainer_fn returned a {type(model).__name__} with horizon {model_h}, but this "
            f"backtest's horizon is {horizon}; build the model with horizon={horizon} (e.g. "
            f"trainer_for(model_type, horizon={horizon})) so its early stopping, inner folds and "
            "intervals purge the right number of rows"
        )


def normalised_importance_of(model: Any) -> pd.Series | None:
    """A model's feature importance scaled to sum to 1, or None when it has none."""
    try:
        imp = model.feature_importance()
    except (AttributeError, NotImplementedError):
        return None
    if imp is None or len(imp) == 0:
        return None
    imp = imp.astype("float64")
    total = float(imp.sum())
    return imp / total if total > 0 and math.isfinite(total) else imp


def mean_importance(items: list[pd.Series]) -> pd.Series | None:
    """Mean importance over refits (features missing from a refit count as 0), highest first."""
    if not items:
        return None
    frame = pd.concat(items, axis=1).fillna(0.0)
    return frame.mean(axis=1).sort_values(ascending=False).rename("importance")
