"""The one predictive distribution of a forecast, and every number read off it.

A forecast's distribution is ``location + scale * Z``: ``location`` the served point forecast
(the production model's, or the labelled technical-analysis fallback's), ``Z`` a standardised
shape centred so that its median is 0 (:meth:`StandardShape.centred`), so the median log return
is the location. Its price quantiles, its 80%/95% intervals (the 0.1/0.9 and 0.025/0.975
quantiles), the median price, ``p_up``, ``p_move`` and the direction are all read off the same
:class:`ForecastDistribution` (:func:`read_distribution`), so every surface shows one
distribution.

The scale and shape come from:

- the production distribution version of the (coin, horizon) (its own registered version,
  :mod:`~cryptoforecast.serving.distribution_version`), labelled with the scale model, its
  version and registry id, e.g. ``har_rv v1.2.0 (distribution model 17)``;
- else (registries from before distribution versions) the production model's stored
  distribution when it has one that reads the request's candles (each scale uses candles up to
  its row only), labelled with the scale model and the model version, e.g.
  ``har_rv (lightgbm v1.2.0)``;
- otherwise ``garch_ref``, the textbook GARCH(1,1)-t, fitted on the request's candles with no
  calibration, labelled ``garch_ref (fallback)``;
- with fewer than 500 returns before the origin (too few for ``garch_ref``), ``ewma_t`` with its
  parametric shape, labelled ``ewma_t (fallback: under 500 days of history)``;
- with too little history even for that, none: the forecast has no intervals, quantiles or
  ``p_up``, and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import (
    QUANTILES,
    REFERENCE_MIN_RETURNS,
    GarchRef,
    MarketData,
    PredictiveDistribution,
    StandardShape,
    StoredDistribution,
    make_volatility_model,
)
from cryptoforecast.serving.schemas import DistributionShape, ForecastDistribution

__all__ = [
    "BASE_RATE_BAND",
    "FALLBACK_SCALE",
    "GAUSSIAN_BASELINE",
    "INTERVAL_COVERAGES",
    "MOVE_THRESHOLDS",
    "SHORT_HISTORY_SCALE",
    "Baselines",
    "ReferenceFit",
    "ServedDistribution",
    "as_predictive",
    "baseline_distributions",
    "centred",
    "describe_distribution",
    "fit_reference",
    "model_label",
    "read_distribution",
    "served_distribution",
    "with_reason",
]

FALLBACK_SCALE = "garch_ref (fallback)"
SHORT_HISTORY_SCALE = f"ewma_t (fallback: under {REFERENCE_MIN_RETURNS} days of history)"
#: the 30-day Gaussian every served distribution is kept beside (with ``garch_ref``)
GAUSSIAN_BASELINE = "rolling_gaussian"
#: default |price change| thresholds for ``p_move`` (5% and 10%)
MOVE_THRESHOLDS: tuple[float, ...] = (0.05, 0.10)
#: the central intervals a forecast serves, each from two of :data:`QUANTILES`
INTERVAL_COVERAGES: tuple[float, ...] = (0.8, 0.95)
#: ``p_up`` within this of the base rate says nothing beyond the shape: direction ``"flat"``
BASE_RATE_BAND = 0.02


@dataclass(frozen=True)
class ServedDistribution:
    """A forecast's distribution and what is read off it: price quantiles, the central
    intervals (the same quantiles), the median log return, ``p_up`` beside its base rate (the
    ``p_up`` of the same distribution at location 0) and ``p_move`` by threshold."""

    distribution: ForecastDistribution
    quantiles: dict[float, float]
    intervals: dict[float, tuple[float, float]]
    median_return: float
    p_up: float
    p_up_base_rate: float
    p_move: dict[float, float]

    @property
    def source(self) -> str:
        return self.distribution.source

    @property
    def median_price(self) -> float:
        return self.quantiles[0.5]

    @property
    def p_up_is_base_rate(self) -> bool:
        """``p_up`` is within :data:`BASE_RATE_BAND` of the base rate: it says nothing beyond
        the shape."""
        return abs(self.p_up - self.p_up_base_rate) < BASE_RATE_BAND

    @property
    def direction(self) -> str:
        """``"flat"`` when ``p_up`` is the base rate, else the sign of the median."""
        if self.p_up_is_base_rate or self.median_return == 0:
            return "flat"
        return "up" if self.median_return > 0 else "down"


@dataclass(frozen=True)
class ReferenceFit:
    """``garch_ref`` fitted once on one origin's candles (``model``, for every horizon through
    :meth:`GarchRef.with_horizon`), or why it could not be (``reason``)."""

    model: GarchRef | None
    reason: str | None = None
    short_history: bool = False


@dataclass(frozen=True)
class Baselines:
    """What a served distribution is kept beside, at the same origin and with location 0:
    ``garch_ref`` and the 30-day rolling Gaussian (``None`` where there is too little history)."""

    reference: ForecastDistribution | None
    gaussian: ForecastDistribution | None


def model_label(volatility: str, model_type: str, version: str | None) -> str:
    """How a stored distribution is labelled: scale model, then the model version it belongs to."""
    return f"{volatility} ({model_type} v{version})"


def with_reason(label: str, reason: str | None) -> str:
    """``label`` with why it serves added inside its parentheses: ``garch_ref (fallback)`` and
    ``no production distribution for bitcoin h=7`` give ``garch_ref (fallback: no production
    distribution for bitcoin h=7)``; any other label takes the reason after a semicolon
    (``har_rv (lightgbm v1.2.0; no production distribution for bitcoin h=7)``)."""
    if not reason:
        return label
    if not label.endswith(")") or "(" not in label:
        return f"{label} ({reason})"
    inner = label[label.index("(") + 1 : -1]
    return f"{label[:-1]}{': ' if inner == 'fallback' else '; '}{reason})"


def fit_reference(candles: pd.DataFrame) -> ReferenceFit:
    """``garch_ref`` fitted on ``candles`` (its last 1,500 returns; at least 500)."""
    returns = int(np.isfinite(np.log(candles["close"].astype("float64"))).sum()) - 1
    if returns < REFERENCE_MIN_RETURNS:
        return ReferenceFit(
            None,
            f"garch_ref needs {REFERENCE_MIN_RETURNS} returns before the origin, got "
            f"{max(returns, 0)}",
            short_history=True,
        )
    try:
        return ReferenceFit(GarchRef(horizon=1).fit(MarketData(candles)))
    except DataError as exc:
        return ReferenceFit(None, f"garch_ref could not be fitted: {exc}")


def centred(pred: PredictiveDistribution) -> PredictiveDistribution:
    """``pred`` on its centred shape (median 0), so its location is its median."""
    return PredictiveDistribution(
        pred.mu, pred.sigma, pred.shape.centred(), level_adjust=dict(pred.level_adjust)
    )


def _last(pred: PredictiveDistribution, name: str) -> PredictiveDistribution:
    """The distribution at the last candle, or :class:`DataError` when it has no scale there."""
    if len(pred.mu) == 0:
        raise DataError(f"the {name} scale is undefined at the last candle (too little history)")
    return PredictiveDistribution(
        pred.mu.iloc[-1:], pred.sigma.iloc[-1:], pred.shape, dict(pred.level_adjust)
    )


def _at_last(
    candles: pd.DataFrame, sigma: pd.Series, shape: StandardShape, location: float, name: str
) -> PredictiveDistribution:
    """``location + sigma * shape`` at the last candle (``sigma`` must be defined there)."""
    last = candles.index[-1]
    value = float(sigma.get(last, np.nan))
    if not (math.isfinite(value) and value > 0):
        raise DataError(f"the {name} scale is undefined at the last candle (too little history)")
    index = candles.index[-1:]
    return PredictiveDistribution(
        pd.Series([float(location)], index=index), pd.Series([value], index=index), shape
    )


def _reference_at(
    candles: pd.DataFrame, reference: GarchRef, horizon: int, location: float
) -> PredictiveDistribution:
    model = reference.with_horizon(int(horizon))
    sigma = model.predict_scale(MarketData(candles))
    return _at_last(candles, sigma, model.shape_, location, "garch_ref")


def served_distribution(
    candles: pd.DataFrame,
    horizon: int,
    point: float,
    thresholds: tuple[float, ...] = MOVE_THRESHOLDS,
    stored: StoredDistribution | None = None,
    label: str | None = None,
    reference: ReferenceFit | None = None,
    intraday: pd.DataFrame | None = None,
    baseline: ForecastDistribution | None = None,
) -> ServedDistribution:
    """The distribution at the last candle, located at ``point`` (the h-step log return) and
    read off as a forecast serves it (see the module docstring for where the scale comes from).

    ``stored`` is the distribution that serves (the production distribution version, or the
    one stored with the production model), labelled ``label``; ``intraday``, the coin's 4h
    candles, reach it when it reads them; ``reference`` the ``garch_ref`` fit of
    these candles (fitted here when not given); ``baseline`` the ``garch_ref`` distribution of
    these candles at location 0 (:func:`baseline_distributions`), which the fallback is located
    from without reading ``reference`` when given. Raises :class:`DataError` when no distribution
    can be fitted (too little history) or its numbers are not finite.
    """
    for t in thresholds:
        if not 0 < t < 1:
            raise DataError(f"move thresholds must be fractions in (0, 1), e.g. 0.05; got {t!r}")
    if stored is not None and int(stored.horizon) != int(horizon):
        raise DataError(
            f"the stored {stored.volatility} distribution is for h={stored.horizon}, not "
            f"h={horizon}; retrain the model"
        )
    if stored is not None:
        market = MarketData(candles, intraday)
        pred = stored.predict_distribution(market, pd.Series([point], index=candles.index[-1:]))
        pred = _last(pred, stored.volatility)
        if pred.mu.index[-1] != candles.index[-1]:
            raise DataError(f"the {stored.volatility} scale is undefined at the last candle")
        source = label or stored.volatility
    elif baseline is not None:
        pred = as_predictive(baseline.model_copy(update={"location": float(point)}))
        source = FALLBACK_SCALE
    else:
        fit = reference if reference is not None else fit_reference(candles)
        if fit.model is not None:
            pred, source = _reference_at(candles, fit.model, horizon, point), FALLBACK_SCALE
        else:
            model = make_volatility_model("ewma_t", int(horizon)).fit(MarketData(candles))
            sigma = model.predict_scale(MarketData(candles))
            pred = _at_last(candles, sigma, model.shape_, point, "ewma_t")
            source = (
                SHORT_HISTORY_SCALE
                if fit.short_history
                else f"ewma_t (fallback: {fit.reason or 'garch_ref unavailable'})"
            )
    dist = describe_distribution(centred(pred), source)
    return read_distribution(dist, float(candles["close"].iloc[-1]), thresholds)


def read_distribution(
    dist: ForecastDistribution,
    last_close: float,
    thresholds: tuple[float, ...] = MOVE_THRESHOLDS,
) -> ServedDistribution:
    """Every number a forecast serves, read off ``dist`` from a close of ``last_close``:
    price quantiles at :data:`QUANTILES`, the intervals as those quantiles, ``p_up`` and its
    base rate, ``p_move``. Raises :class:`DataError` when any of them is not finite."""
    pred = as_predictive(dist)
    q = pred.quantiles(QUANTILES).iloc[0]
    levels = {round(float(k), 6): float(v) for k, v in q.items()}
    with np.errstate(over="ignore", under="ignore"):
        prices = {k: last_close * float(np.exp(v)) for k, v in levels.items()}
    intervals = {
        c: (prices[round((1 - c) / 2, 6)], prices[round((1 + c) / 2, 6)])
        for c in INTERVAL_COVERAGES
    }
    p_up = float(pred.p_up().iloc[0])
    at_zero = as_predictive(dist.model_copy(update={"location": 0.0}))
    base = float(at_zero.p_up().iloc[0])
    p_move = {
        t: float(pred.cdf(math.log(1 - t)).iloc[0] + 1 - pred.cdf(math.log(1 + t)).iloc[0])
        for t in thresholds
    }
    if not all(math.isfinite(p) and p > 0 for p in prices.values()) or not all(
        0.0 <= p <= 1.0 for p in (p_up, base, *p_move.values())
    ):
        raise DataError(
            f"the {dist.source} distribution gives prices or probabilities that are not "
            f"finite (quantiles {levels!r}, p_up {p_up!r}) around the location {dist.location!r}"
        )
    return ServedDistribution(
        distribution=dist,
        quantiles=prices,
        intervals=intervals,
        median_return=levels[0.5],
        p_up=p_up,
        p_up_base_rate=base,
        p_move=p_move,
    )


def baseline_distributions(
    candles: pd.DataFrame, horizon: int, reference: ReferenceFit | None = None
) -> Baselines:
    """``garch_ref`` (from ``reference``, the fit of these candles) and the 30-day rolling
    Gaussian at the last candle, both with location 0 (see :class:`Baselines`)."""
    fit = reference if reference is not None else fit_reference(candles)
    ref = None
    if fit.model is not None:
        try:
            pred = _reference_at(candles, fit.model, horizon, 0.0)
            ref = describe_distribution(pred, "garch_ref")
        except DataError:
            ref = None
    gaussian = None
    try:
        model = make_volatility_model(GAUSSIAN_BASELINE, int(horizon)).fit(MarketData(candles))
        pred = _at_last(candles, model.predict_scale(MarketData(candles)), model.shape_, 0.0, "")
        gaussian = describe_distribution(pred, GAUSSIAN_BASELINE)
    except DataError:
        gaussian = None
    return Baselines(ref, gaussian)


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
