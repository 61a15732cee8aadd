"""The overview page (``/``): one card per tracked coin, its closes and today's forecasts.

Forecasts come from ``Predictor.predict`` (its cache included), so the page shows what
``GET /v1/forecast`` answers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cryptoforecast.assets import ASSETS, resolve_asset, snapshot_assets
from cryptoforecast.catalogue import read_catalogue
from cryptoforecast.data.schema import check_interval
from cryptoforecast.durations import human_duration
from cryptoforecast.exceptions import CryptoForecastError
from cryptoforecast.redaction import redact
from cryptoforecast.serving.dashboard.charts import FanPoint, fan_chart
from cryptoforecast.serving.failures import public_reason
from cryptoforecast.serving.ledger import forecasts_table
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.schemas import Forecast

__all__ = [
    "CLOSE_DAYS",
    "CoinCard",
    "OverviewPage",
    "Staleness",
    "forecast_bands",
    "overview_page",
    "staleness",
    "source_coins",
    "tracked_coins",
]

log = logging.getLogger(__name__)

#: days of closes drawn before the fan
CLOSE_DAYS = 90


@dataclass(frozen=True)
class Staleness:
    """How old the newest candle behind a forecast is; ``stale`` once a newer one is overdue."""

    stale: bool
    age_hours: float
    label: str


@dataclass(frozen=True)
class HorizonRow:
    """One horizon of a coin card: the forecast, the bands drawn, and where it came from."""

    forecast: Forecast
    bands: dict[float, tuple[float, float]]
    band_source: str
    source_label: str


@dataclass(frozen=True)
class CoinCard:
    crypto_id: str
    name: str
    rows: list[HorizonRow]
    as_of: datetime | None
    staleness: Staleness | None
    chart: str | None
    error: str | None = None

    @property
    def sources(self) -> list[tuple[list[int], str]]:
        """Horizons grouped by where their forecast came from, in horizon order."""
        groups: dict[str, list[int]] = {}
        for r in self.rows:
            groups.setdefault(r.source_label, []).append(r.forecast.horizon)
        return [(hs, label) for label, hs in groups.items()]


@dataclass(frozen=True)
class OverviewPage:
    cards: list[CoinCard]
    note: str | None
    now: datetime


def forecast_bands(forecast: Any) -> tuple[dict[float, tuple[float, float]], str]:
    """The 80% and 95% bands of a forecast and what they come from: its ``intervals``, which
    are its predictive distribution's 0.1/0.9 and 0.025/0.975 quantiles (``"distribution"``;
    none when the forecast has no distribution)."""
    bands = {float(c): (float(lo), float(hi)) for c, (lo, hi) in forecast.intervals.items()}
    return bands, "distribution"


def staleness(forecast: Forecast, now: datetime) -> Staleness:
    """Stale when more than one interval has passed since the newest candle closed (a newer
    candle should exist by then); a forecast's own ``stale`` flag, once it has one, wins."""
    step = check_interval(forecast.interval).to_pytimedelta()
    age = now - (forecast.as_of + step)
    own = getattr(forecast, "stale", None)
    stale = own if isinstance(own, bool) else age > step
    hours = age.total_seconds() / 3600
    label = f"{'stale' if stale else 'fresh'}: last candle closed {human_duration(age)} ago"
    return Staleness(stale, hours, label)


def _source_label(f: Forecast) -> str:
    if f.source == "model":
        return f"{f.model_type} model #{f.model_id}, version {f.model_version}"
    return f"technical-analysis fallback, because: {f.fallback_reason}"


def source_coins(pred: Predictor) -> list[str]:
    """The coins the predictor's source has candles of its interval for: the coins imported
    with ``data import`` for source csv, else every coin of the embedded snapshot."""
    if pred.source == "csv":
        coins = read_catalogue().coins.values()
        return [c.id for c in coins if pred.interval in c.intervals]
    return [a.id for a in snapshot_assets()]


def tracked_coins(pred: Predictor, registered: set[str]) -> list[str]:
    """Coins with a model in the registry (``registered``) or a forecast in the ledger, in the
    asset list's order; every coin of the source (:func:`source_coins`) when there are none
    yet. Only coins the source has candles of: the snapshot's or the imported ones for the
    snapshot and csv, the built-in assets for a live source (a card would say "No forecast")."""
    found = set(registered)
    with pred.ledger.engine.connect() as conn:
        found |= set(conn.execute(sa.select(forecasts_table.c.crypto_id).distinct()).scalars())
    if pred.source in ("snapshot", "csv"):
        found &= set(source_coins(pred))
    else:
        found &= {a.id for a in ASSETS}
    order = [a.id for a in ASSETS]
    known = sorted(found, key=lambda c: order.index(c) if c in order else len(order))
    return known or source_coins(pred)


def _card(pred: Predictor, crypto_id: str, horizons: list[int], now: datetime) -> CoinCard:
    name = resolve_asset(crypto_id).name
    try:
        rows = []
        for h in horizons:
            f = pred.predict(crypto_id, horizon=h)
            bands, how = forecast_bands(f)
            rows.append(HorizonRow(f, bands, how, _source_label(f)))
        closes = pred.candles(crypto_id)["close"].iloc[-CLOSE_DAYS:]
    except CryptoForecastError as exc:  # the page is public: the kind of failure, no details
        log.warning("overview: no forecast for %s: %s", crypto_id, redact(exc))
        return CoinCard(crypto_id, name, [], None, None, None, error=public_reason(exc))
    first = rows[0].forecast
    points = [
        FanPoint(
            r.forecast.target_time, r.forecast.predicted_price, r.bands, f"h={r.forecast.horizon}"
        )
        for r in rows
    ]
    history = [(t.to_pydatetime(), float(v)) for t, v in closes.items()]
    chart = fan_chart(
        history,
        (first.as_of, first.last_close),
        points,
        f"{name}: last {len(history)} closes and the forecasts for h = "
        + ", ".join(str(h) for h in horizons),
    )
    return CoinCard(crypto_id, name, rows, first.as_of, staleness(first, now), chart)


def overview_page(pred: Predictor, horizons: list[int]) -> OverviewPage:
    """One card per tracked coin (see :func:`tracked_coins`), each with the configured
    ``horizons`` and those a production model serves.

    An unreachable registry or ledger does not take the page down: the forecasts still answer
    (from the labelled fallback, as the API does) and a notice says what failed.
    """
    now = pred.clock()
    note = None
    try:
        records = pred.registry.list_models()
    except CryptoForecastError as exc:
        log.warning("overview: the registry failed: %s", redact(exc))
        records, note = [], f"The model registry is unavailable ({type(exc).__name__})."
    served: dict[str, set[int]] = defaultdict(set)
    point_served = False  # a production distribution alone leaves the point forecasts fallback
    for r in records:
        if r.status == "production":
            served[r.crypto_id].add(r.horizon)
            point_served = point_served or r.kind == "point"
    try:
        coins = tracked_coins(pred, {r.crypto_id for r in records})
    except (CryptoForecastError, sa.exc.SQLAlchemyError) as exc:
        log.warning("overview: the ledger failed: %s", redact(exc))
        coins = source_coins(pred)
        note = f"The forecast ledger is unavailable ({type(exc).__name__})."
    cards = [_card(pred, c, sorted(set(horizons) | served.get(c, set())), now) for c in coins]
    if note is None and not served:
        note = (
            "No model is in production yet: every forecast below comes from the labelled "
            "technical-analysis fallback."
        )
    elif note is None and not point_served:
        note = (
            "No point model is in production yet: every point forecast below comes from the "
            "labelled technical-analysis fallback."
        )
    return OverviewPage(cards, note, now)
