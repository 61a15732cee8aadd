"""The predictive distribution served with each forecast: price quantiles, ``p_up``, ``p_move``.

When the production model's artifact holds a distribution (trained with it, part of its
version), its scale model reads the request's candles (each scale uses candles up to its row
only) around the served point forecast, and the forecast is labelled with the scale model's name
and the model version, e.g. ``har_rv (lightgbm v1.2.0)``. Otherwise (no production model, or one
trained without a distribution) the scale comes from ``ewma_t`` fitted on the request's own
candles (calibrated on scores out of sample within them), labelled ``ewma_t (fallback scale)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import (
    QUANTILES,
    DistributionForecaster,
    MarketData,
    PredictiveDistribution,
    StandardShape,
)
from cryptoforecast.serving.schemas import DistributionShape, ForecastDistribution

__all__ = [
    "FALLBACK_SCALE",
    "as_predictive",
    "describe_distribution",
    "MOVE_THRESHOLDS",
    "ServedDistribution",
    "model_label",
    "served_distribution",
]

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


def model_label(volatility: str, model_type: str, version: str | None) -> str:
    """How a stored distribution is labelled: scale model, then the model version it belongs to."""
    return f"{volatility} ({model_type} v{version})"


def served_distribution(
    candles: pd.DataFrame,
    horizon: int,
    point: float,
    thresholds: tuple[float, ...] = MOVE_THRESHOLDS,
    stored: DistributionForecaster | None = None,
    label: str | None = None,
) -> ServedDistribution:
    """The distribution at the last candle: location ``point`` (h-step log return), scale and
    shape from ``stored`` (the production model's distribution, labelled ``label``) or, without
    one, from ``ewma_t`` fitted on ``candles`` only. ``p_move[t]`` is ``P(|price change| > t)``.
    """
    for t in thresholds:
        if not 0 < t < 1:
            raise DataError(f"move thresholds must be fractions in (0, 1), e.g. 0.05; got {t!r}")
    if stored is not None and int(stored.horizon) != int(horizon):
        raise DataError(
            f"the stored {stored.volatility} distribution is for h={stored.horizon}, not "
            f"h={horizon}; retrain the model"
        )
    market = MarketData(candles)
    if stored is None:
        dist = DistributionForecaster("ewma_t", horizon=int(horizon)).fit(market)
        source = FALLBACK_SCALE
    else:
        dist, source = stored, label or stored.volatility
    last = candles.index[-1:]
    pred = dist.predict_distribution(market, pd.Series([point], index=last))
    if len(pred.mu) != 1:
        raise DataError(
            f"the {dist.volatility} scale is undefined at the last candle (too little history)"
        )
    close = float(candles["close"].iloc[-1])
    q = pred.quantiles(QUANTILES).iloc[0]
    p_move = {
        t: float(pred.cdf(math.log(1 - t)).iloc[0] + 1 - pred.cdf(math.log(1 + t)).iloc[0])
        for t in thresholds
    }
    with np.errstate(over="ignore", under="ignore"):
        prices = {float(k): close * float(np.exp(v)) for k, v in q.items()}
    p_up = float(pred.p_up().iloc[0])
    if not all(math.isfinite(p) and p > 0 for p in prices.values()) or not all(
        0.0 <= p <= 1.0 for p in (p_up, *p_move.values())
    ):
        raise DataError(
            f"the {dist.volatility} distribution gives prices or probabilities that are not "
            f"finite (quantiles {q.to_dict()!r}, p_up {p_up!r}) around the point {point!r}"
        )
    return ServedDistribution(quantiles=prices, p_up=p_up, p_move=p_move, source=source)


def describe_distribution(pred: PredictiveDistribution, source: str) -> ForecastDistribution:
    """The last origin of ``pred`` as the JSON form a forecast, the ledger and the replay keep."""
    shape = pred.shape
    return ForecastDistribution(
        source=source,
        location=float(pred.mu.iloc[-1]),
        scale=float(pred.sigma.iloc[-1]),
        shape=DistributionShape(
            kind=shape.kind,
            df=None if math.isinf(shape.df) else float(shape.df),
            scale=float(shape.scale),
            scores=[float(v) for v in shape.scores],
        ),
    )


def as_predictive(dist: ForecastDistribution) -> PredictiveDistribution:
    """A kept distribution back as a one-origin :class:`PredictiveDistribution` (to score it:
    ``.crps([y])``, ``.pit([y])``, ``.quantiles(levels)``)."""
    shape = StandardShape(
        kind=dist.shape.kind,
        df=math.inf if dist.shape.df is None else float(dist.shape.df),
        scale=float(dist.shape.scale),
        scores=np.asarray(dist.shape.scores, dtype="float64"),
    )
    return PredictiveDistribution(pd.Series([dist.location]), pd.Series([dist.scale]), shape)
