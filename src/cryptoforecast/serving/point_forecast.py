"""The point forecast and its interval bands, as log returns, from a fitted model's last feature
row; the technical-analysis fallback that answers when no production model can; and
:class:`PointForecast`, the typed answer either gives (with who gave it and why)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from cryptoforecast.exceptions import DataError
from cryptoforecast.features import make_target
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.catalog import make_forecaster
from cryptoforecast.models.checks import context_rows

if TYPE_CHECKING:
    from cryptoforecast.models.base import Forecaster
    from cryptoforecast.models.distribution import DistributionForecaster
    from cryptoforecast.registry.record import ModelRecord
    from cryptoforecast.serving.schemas import ForecastSource

__all__ = [
    "COVERAGES",
    "FALLBACK_MODEL_TYPE",
    "Bands",
    "PointForecast",
    "predict_last",
    "technical_forecast",
]

COVERAGES: tuple[float, ...] = (0.8, 0.95)
FALLBACK_MODEL_TYPE = "technical"

#: interval bounds (log returns) by coverage
Bands = dict[float, tuple[float, float]]


@dataclass(frozen=True)
class PointForecast:
    """A log-return forecast with its bands, and what made it.

    ``source`` is ``"model"`` (then ``record`` is the production model's, and ``distribution``
    the distribution stored with it, if any) or ``"technical_analysis_fallback"`` (then
    ``fallback_reason`` says why the production model did not answer).
    """

    point: float
    bands: Bands
    model_type: str
    source: ForecastSource
    record: ModelRecord | None = None
    fallback_reason: str | None = None
    distribution: DistributionForecaster | None = None


def predict_last(
    model: Forecaster, features: pd.DataFrame, last_close: float | None = None
) -> tuple[float, Bands]:
    """``model``'s forecast from the last row of ``features``: the point and its bands by
    coverage (:data:`COVERAGES`). Raises :class:`DataError` for missing features or a
    non-finite forecast, or (given ``last_close``) one whose prices ``last_close * e^r`` are
    not finite positive numbers."""
    names = list(model.feature_names_)
    missing = [c for c in names if c not in features.columns]
    if missing:
        raise DataError(
            f"the model needs {len(missing)} feature(s) these candles do not give, e.g. "
            f"{missing[:5]}: it was trained on the "
            f"{getattr(model, 'feature_set_', None) or 'unknown'!r} feature set, the candles "
            f"allow {features.attrs.get('feature_set', 'unknown')!r}. Serve it from a source "
            "with the columns it was trained on, or retrain it on this source"
        )

    # windowed models (LSTM, an ensemble holding one) read `lookback` rows up to the origin
    X = features[names].iloc[-(context_rows(model) + 1) :]
    point = float(model.predict(X).iloc[-1])
    bands: Bands = {}

    if type(model).predict_interval is BaseForecaster.predict_interval:
        # the base implementation is ``point + calibrator offsets``: skip predicting twice more
        for c in COVERAGES:
            lo, hi = model.calibrator_.offsets(c)  # type: ignore[attr-defined]
            bands[c] = (point + lo, point + hi)
    else:
        for c in COVERAGES:
            iv = model.predict_interval(X, coverage=c)
            bands[c] = (float(iv["lower"].iloc[-1]), float(iv["upper"].iloc[-1]))
    returns = (point, *[x for b in bands.values() for x in b])
    if not all(math.isfinite(v) for v in returns):
        raise DataError(f"the model returned a non-finite forecast ({point!r}, {bands!r})")
    if last_close is not None and not all(_is_price(last_close, r) for r in returns):
        raise DataError(
            f"the model's forecast is not a finite price: log returns {point!r} and bands "
            f"{bands!r} from a close of {last_close!r} overflow or vanish"
        )
    return point, bands


def _is_price(close: float, log_return: float) -> bool:
    """``close * e^log_return`` is a finite price above 0 (no overflow, no underflow)."""
    try:
        price = close * math.exp(log_return)
    except OverflowError:
        return False
    return math.isfinite(price) and price > 0


def technical_forecast(
    candles: pd.DataFrame, features: pd.DataFrame, horizon: int
) -> tuple[float, Bands]:
    """Fit the technical-analysis forecaster on this history only and predict the last row."""
    target = make_target(candles, horizon)
    complete = features.notna().all(axis=1).to_numpy()
    X = features.loc[complete]
    y = target.loc[X.index]
    known = y.notna().to_numpy()
    model = make_forecaster(FALLBACK_MODEL_TYPE, horizon=horizon)
    model.fit(X.loc[known], y.loc[known])
    return predict_last(model, features, float(candles["close"].iloc[-1]))
