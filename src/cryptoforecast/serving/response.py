"""The :class:`Forecast` a client receives, assembled from a :class:`PointForecast` and the one
predictive distribution located at it (the production distribution version, else the one stored
with the production model, else the labelled ``garch_ref`` fallback, else ``ewma_t`` on a short
history; none when the history is too short for any scale): its median is the forecast price,
its quantiles the intervals, and ``p_up``, ``p_move`` and the direction are read off it. The
forecast names which served and why (``distribution_source``, ``distribution_model_id``,
``distribution_version``, ``distribution_reason``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.data.schema import check_interval
from cryptoforecast.exceptions import DataError
from cryptoforecast.redaction import redact
from cryptoforecast.serving.distribution import (
    ReferenceFit,
    ServedDistribution,
    model_label,
    served_distribution,
    with_reason,
)
from cryptoforecast.serving.distribution_version import ProductionDistribution, Unserved
from cryptoforecast.serving.point_forecast import PointForecast
from cryptoforecast.serving.schemas import Forecast, ForecastDistribution

__all__ = ["build_forecast"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Chosen:
    """The distribution a forecast serves (``None``: none, ``missing`` says why), what made it
    and why (the fields of the same names in :class:`Forecast`)."""

    served: ServedDistribution | None
    source: str | None = None
    model_id: int | None = None
    version: str | None = None
    reason: str | None = None
    missing: str | None = None


#: served distributions already read off, by what served, where and from which 4h candles
Memo = MutableMapping[tuple[Any, ...], ServedDistribution]


def _intraday_key(intraday: pd.DataFrame | None) -> tuple[Any, ...] | None:
    """Which 4h candles a distribution read (their count, last time and close)."""
    if intraday is None or intraday.empty:
        return None
    return (len(intraday), intraday.index[-1], float(intraday["close"].iloc[-1]))


def _memoised(
    memo: Memo | None, key: tuple[Any, ...], read: Callable[[], ServedDistribution]
) -> ServedDistribution:
    """``read()``, once per ``key`` when a ``memo`` (the candles' state) is given."""
    if memo is None:
        return read()
    served = memo.get(key)
    if served is None:
        served = memo[key] = read()
    return served


def _distribution(
    crypto_id: str,
    candles: pd.DataFrame,
    horizon: int,
    answer: PointForecast,
    move_thresholds: tuple[float, ...],
    reference: ReferenceFit | None,
    intraday: pd.DataFrame | None,
    production: ProductionDistribution | Unserved | None,
    baseline: ForecastDistribution | None = None,
    memo: Memo | None = None,
) -> _Chosen:
    """The production distribution version when it serves these candles, else the model's
    stored distribution when it has one that does, else the labelled fallback; why there is
    none when the history is too short for any scale. ``memo`` keeps what was read off, for the
    next forecast from the same candles (the distribution, location and thresholds the same)."""
    where = (int(horizon), float(answer.point), tuple(move_thresholds))
    why = production.reason if isinstance(production, Unserved) else None
    if isinstance(production, ProductionDistribution):
        try:
            chosen = production
            served = _memoised(
                memo,
                ("version", chosen.model_id, chosen.label, *where, _intraday_key(chosen.intraday)),
                lambda: served_distribution(
                    candles,
                    horizon,
                    answer.point,
                    move_thresholds,
                    chosen.model,
                    chosen.label,
                    intraday=chosen.intraday,
                ),
            )
            return _Chosen(
                served, production.source, production.model_id, production.version,
                production.reason,
            )  # fmt: skip
        except Exception as exc:  # it cannot serve these candles: the next source, labelled
            why = (
                f"distribution model {production.model_id} could not serve this forecast: "
                f"{type(exc).__name__}"
            )
            log.warning("%s (%s h=%s): %s", why, crypto_id, horizon, redact(exc))
    stored, record = answer.distribution, answer.record
    if stored is not None and record is not None:
        try:
            label = model_label(stored.volatility, record.model_type, record.version)
            kept = stored
            served = _memoised(
                memo,
                ("attached", record.model_id, label, *where, _intraday_key(intraday)),
                lambda: served_distribution(
                    candles, horizon, answer.point, move_thresholds, kept, label, intraday=intraday
                ),
            )
            source = with_reason(served.source, why)
            return _Chosen(served, source, record.model_id, record.version, why)
        except Exception as exc:  # the stored scale cannot serve these candles: fallback
            log.warning(
                "stored distribution unusable for %s: %s: %s",
                crypto_id,
                type(exc).__name__,
                redact(exc),
            )
    try:
        served = _memoised(
            memo,
            ("fallback", *where),
            lambda: served_distribution(
                candles,
                horizon,
                answer.point,
                move_thresholds,
                reference=reference,
                baseline=baseline,
            ),
        )
        return _Chosen(served, with_reason(served.source, why), reason=why)
    except DataError as exc:  # too little history for a scale: the point forecast still serves
        log.warning("no distribution for %s h=%s: %s", crypto_id, horizon, exc)
        return _Chosen(None, reason=why, missing=f"no distribution: {redact(exc)}")


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
    reference: ReferenceFit | None = None,
    intraday: pd.DataFrame | None = None,
    production: ProductionDistribution | Unserved | None = None,
    baseline: ForecastDistribution | None = None,
    memo: Memo | None = None,
) -> Forecast:
    """The response for ``answer``, forecast from the last of ``candles`` at ``now``;
    ``staleness`` holds the forecast's ``stale`` and ``stale_reason``; ``reference`` is the
    ``garch_ref`` fit of these candles (fitted here when not given), ``intraday`` the coin's 4h
    candles for a stored distribution that reads them, ``production`` the production
    distribution version ready to serve, or why it cannot (``None``: none was looked up);
    ``baseline`` the ``garch_ref`` distribution of these candles at location 0, which the
    fallback is located from when given (then ``reference`` is not read); ``memo`` the
    candles' kept served distributions (each read off once per candle state)."""
    as_of = candles.index[-1]
    last_close = float(candles["close"].iloc[-1])
    record = answer.record
    age = None
    if record is not None:
        age = round((now - record.created_at).total_seconds() / 86_400.0, 4)
    chosen = _distribution(
        crypto_id,
        candles,
        horizon,
        answer,
        move_thresholds,
        reference,
        intraday,
        production,
        baseline,
        memo,
    )
    dist = chosen.served
    if dist is not None:
        served: dict[str, Any] = {
            "predicted_price": dist.median_price,
            "predicted_return": dist.median_return,
            "direction": dist.direction,
            "intervals": dist.intervals,
            "quantiles": dist.quantiles,
            "p_up": dist.p_up,
            "p_up_base_rate": dist.p_up_base_rate,
            "p_up_is_base_rate": dist.p_up_is_base_rate,
            "p_move": dist.p_move,
            "distribution_source": chosen.source,
            "distribution": dist.distribution,
            "distribution_model_id": chosen.model_id,
            "distribution_version": chosen.version,
            "distribution_reason": chosen.reason,
        }
    else:  # no distribution: the point forecast alone, and why
        point = answer.point
        served = {
            "predicted_price": last_close * float(np.exp(point)),
            "predicted_return": point,
            "direction": "up" if point > 0 else "down" if point < 0 else "flat",
            "intervals": {},
            "no_distribution_reason": chosen.missing,
            "distribution_reason": chosen.reason,
        }
    return Forecast(
        crypto_id=crypto_id,
        horizon=horizon,
        interval=interval,
        as_of=as_of.to_pydatetime(),
        target_time=(as_of + horizon * check_interval(interval)).to_pydatetime(),
        last_close=last_close,
        model_type=answer.model_type,
        model_id=record.model_id if record else None,
        model_version=record.version if record else None,
        model_age_days=age,
        source=answer.source,
        fallback_reason=answer.fallback_reason,
        cached=False,
        generated_at=now,
        **served,
        **staleness,
    )
