"""The :class:`Forecast` a client receives, assembled from a :class:`PointForecast`: prices
from the log returns, the model's age, and the predictive distribution (the model's stored one,
else the labelled ``ewma_t`` fallback scale; none when the history is too short for a scale)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.data.schema import check_interval
from cryptoforecast.exceptions import DataError
from cryptoforecast.redaction import redact
from cryptoforecast.serving.distribution import (
    ServedDistribution,
    model_label,
    served_distribution,
)
from cryptoforecast.serving.point_forecast import PointForecast
from cryptoforecast.serving.schemas import Forecast

__all__ = ["build_forecast"]

log = logging.getLogger(__name__)


def _distribution(
    crypto_id: str,
    candles: pd.DataFrame,
    horizon: int,
    answer: PointForecast,
    move_thresholds: tuple[float, ...],
) -> ServedDistribution | None:
    """The model's stored distribution when it has one that reads these candles, else the
    labelled ``ewma_t`` fallback; ``None`` when there is too little history for a scale."""
    stored, record = answer.distribution, answer.record
    dist: ServedDistribution | None = None
    try:
        if stored is not None and record is not None:
            try:
                label = model_label(stored.volatility, record.model_type, record.version)
                dist = served_distribution(
                    candles, horizon, answer.point, move_thresholds, stored, label
                )
            except Exception as exc:  # the stored scale cannot serve these candles: fallback
                log.warning(
                    "stored distribution unusable for %s: %s: %s",
                    crypto_id,
                    type(exc).__name__,
                    redact(exc),
                )
        if dist is None:
            dist = served_distribution(candles, horizon, answer.point, move_thresholds)
    except DataError as exc:  # too little history for a scale: the point forecast still serves
        log.warning("no distribution for %s h=%s: %s", crypto_id, horizon, exc)
        dist = None
    return dist


def build_forecast(
    crypto_id: str,
    candles: pd.DataFrame,
    horizon: int,
    answer: PointForecast,
    *,
    interval: str,
    now: datetime,
    move_thresholds: tuple[float, ...],
    staleness: Mapping[str, Any],
) -> Forecast:
    """The response for ``answer``, forecast from the last of ``candles`` at ``now``;
    ``staleness`` holds the forecast's ``stale`` and ``stale_reason``."""
    as_of = candles.index[-1]
    last_close = float(candles["close"].iloc[-1])
    record = answer.record
    age = None
    if record is not None:
        age = round((now - record.created_at).total_seconds() / 86_400.0, 4)
    dist = _distribution(crypto_id, candles, horizon, answer, move_thresholds)
    point = answer.point
    return Forecast(
        crypto_id=crypto_id,
        horizon=horizon,
        interval=interval,
        as_of=as_of.to_pydatetime(),
        target_time=(as_of + horizon * check_interval(interval)).to_pydatetime(),
        last_close=last_close,
        predicted_price=last_close * float(np.exp(point)),
        predicted_return=point,
        direction="up" if point > 0 else "down" if point < 0 else "flat",
        intervals={
            c: (last_close * float(np.exp(lo)), last_close * float(np.exp(hi)))
            for c, (lo, hi) in answer.bands.items()
        },
        quantiles=dist.quantiles if dist else None,
        p_up=dist.p_up if dist else None,
        p_move=dist.p_move if dist else None,
        distribution_source=dist.source if dist else None,
        model_type=answer.model_type,
        model_id=record.model_id if record else None,
        model_version=record.version if record else None,
        model_age_days=age,
        source=answer.source,
        fallback_reason=answer.fallback_reason,
        cached=False,
        generated_at=now,
        **staleness,
    )
