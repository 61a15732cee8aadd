"""The predictive distribution served with each forecast: price quantiles, ``p_up``, ``p_move``.

No gated distribution model is in the registry yet, so the scale comes from ``ewma_t`` fitted on
the request's own candles (calibrated on scores out of sample within them) around the served
point forecast, and is labelled ``ewma_t (fallback scale)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import QUANTILES, DistributionForecaster, MarketData

__all__ = ["FALLBACK_SCALE", "MOVE_THRESHOLDS", "ServedDistribution", "served_distribution"]

FALLBACK_SCALE = "ewma_t (fallback scale)"
#: default |price change| thresholds for ``p_move`` (5% and 10%)
MOVE_THRESHOLDS: tuple[float, ...] = (0.05, 0.10)


@dataclass(frozen=True)
class ServedDistribution:
    """Price-space quantiles, the probability of a rise, and of a move beyond each threshold."""

    quantiles: dict[float, float]
    p_up: float
    p_move: dict[float, float]
    source: str


def served_distribution(
    candles: pd.DataFrame,
    horizon: int,
    point: float,
    thresholds: tuple[float, ...] = MOVE_THRESHOLDS,
) -> ServedDistribution:
    """The distribution at the last candle: location ``point`` (h-step log return), scale and
    shape from ``ewma_t`` on ``candles`` only. ``p_move[t]`` is ``P(|price change| > t)``."""
    for t in thresholds:
        if not 0 < t < 1:
            raise DataError(f"move thresholds must be fractions in (0, 1), e.g. 0.05; got {t!r}")
    market = MarketData(candles)
    dist = DistributionForecaster("ewma_t", horizon=int(horizon)).fit(market)
    last = candles.index[-1:]
    pred = dist.predict_distribution(MarketData(candles), pd.Series([point], index=last))
    if len(pred.mu) != 1:
        raise DataError("the ewma_t scale is undefined at the last candle (too little history)")
    close = float(candles["close"].iloc[-1])
    q = pred.quantiles(QUANTILES).iloc[0]
    p_move = {
        t: float(pred.cdf(math.log(1 - t)).iloc[0] + 1 - pred.cdf(math.log(1 + t)).iloc[0])
        for t in thresholds
    }
    return ServedDistribution(
        quantiles={float(k): close * float(np.exp(v)) for k, v in q.items()},
        p_up=float(pred.p_up().iloc[0]),
        p_move=p_move,
        source=FALLBACK_SCALE,
    )
