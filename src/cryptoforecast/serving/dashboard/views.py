"""What each dashboard page shows, gathered from the Predictor, the registry and the ledger.

Plain functions returning typed pages; the router renders them. Numbers are those of the JSON
API: forecasts come from ``Predictor.predict`` (its cache included), accuracy from the ledger's
``score_frame`` on the same scored frame ``GET /v1/accuracy`` scores, models from the registry.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cryptoforecast.data import ASSETS, resolve_asset, snapshot_assets
from cryptoforecast.data.schema import check_interval
from cryptoforecast.exceptions import CryptoForecastError
from cryptoforecast.registry import ModelRecord, StageEvent
from cryptoforecast.serving.dashboard.charts import (
    FanPoint,
    LineSeries,
    TimelineEvent,
    fan_chart,
    line_chart,
    timeline_chart,
)
from cryptoforecast.serving.ledger import forecasts_table, score_frame
from cryptoforecast.serving.predictor import COVERAGES, Predictor
from cryptoforecast.serving.schemas import AccuracyRow, Forecast

__all__ = [
    "CLOSE_DAYS",
    "ROLLING_WINDOW",
    "AccuracyPage",
    "ModelsPage",
    "OverviewPage",
    "accuracy_page",
    "forecast_bands",
    "models_page",
    "overview_page",
    "staleness",
]

#: days of closes drawn before the fan
CLOSE_DAYS = 90
#: scored forecasts per point of the rolling-MASE chart
ROLLING_WINDOW = 30


# -- overview ---------------------------------------------------------------------------------
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


def _level(levels: dict[float, float], want: float) -> float | None:
    for level, value in levels.items():
        if abs(level - want) < 1e-6:
            return value
    return None


def forecast_bands(forecast: Any) -> tuple[dict[float, tuple[float, float]], str]:
    """The 80% and 95% bands of a forecast and what they come from.

    A forecast carrying ``quantiles`` (level -> price, the predictive distribution) gives its
    central bands from the 0.1/0.9 and 0.025/0.975 quantiles; otherwise its ``intervals``.
    """
    raw = getattr(forecast, "quantiles", None)
    if raw:
        levels = {float(k): float(v) for k, v in dict(raw).items()}
        bands: dict[float, tuple[float, float]] = {}
        for cov in COVERAGES:
            lo = _level(levels, (1 - cov) / 2)
            hi = _level(levels, 1 - (1 - cov) / 2)
            if lo is not None and hi is not None:
                bands[cov] = (lo, hi)
        if bands:
            return bands, "quantiles"
    return {float(c): (float(lo), float(hi)) for c, (lo, hi) in forecast.intervals.items()}, (
        "intervals"
    )


def staleness(forecast: Forecast, now: datetime) -> Staleness:
    """Stale when more than one interval has passed since the newest candle closed (a newer
    candle should exist by then); a forecast's own ``stale`` flag, once it has one, wins."""
    step = check_interval(forecast.interval).to_pytimedelta()
    age = now - (forecast.as_of + step)
    own = getattr(forecast, "stale", None)
    stale = own if isinstance(own, bool) else age > step
    hours = age.total_seconds() / 3600
    label = f"{'stale' if stale else 'fresh'}: last candle closed {age_text(age)} ago"
    return Staleness(stale, hours, label)


def _source_label(f: Forecast) -> str:
    if f.source == "model":
        return f"{f.model_type} model #{f.model_id}, version {f.model_version}"
    return f"technical-analysis fallback, because: {f.fallback_reason}"


def tracked_coins(pred: Predictor) -> list[str]:
    """Coins with a model in the registry or a forecast in the ledger, in the asset list's
    order; every coin of the embedded snapshot when there are none yet."""
    found = {r.crypto_id for r in pred.registry.list_models()}
    with pred.ledger.engine.connect() as conn:
        found |= set(conn.execute(sa.select(forecasts_table.c.crypto_id).distinct()).scalars())
    order = [a.id for a in ASSETS]
    known = sorted(found, key=lambda c: order.index(c) if c in order else len(order))
    return known or [a.id for a in snapshot_assets()]


def _horizons(pred: Predictor, crypto_id: str, configured: list[int]) -> list[int]:
    served = {r.horizon for r in pred.registry.list_models(crypto_id, status="production")}
    return sorted(set(configured) | served)


def _card(pred: Predictor, crypto_id: str, horizons: list[int], now: datetime) -> CoinCard:
    name = resolve_asset(crypto_id).name
    try:
        rows = []
        for h in horizons:
            f = pred.predict(crypto_id, horizon=h)
            bands, how = forecast_bands(f)
            rows.append(HorizonRow(f, bands, how, _source_label(f)))
        closes = pred.candles(crypto_id)["close"].iloc[-CLOSE_DAYS:]
    except CryptoForecastError as exc:
        return CoinCard(crypto_id, name, [], None, None, None, error=str(exc))
    first = rows[0].forecast
    points = [
        FanPoint(r.forecast.target_time, r.forecast.predicted_price, r.bands, f"h={r.forecast.horizon}")
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
    """One card per tracked coin (see :func:`tracked_coins`)."""
    now = pred.clock()
    coins = tracked_coins(pred)
    cards = [_card(pred, c, _horizons(pred, c, horizons), now) for c in coins]
    note = None
    if not pred.registry.list_models(status="production"):
        note = (
            "No model is in production yet: every forecast below comes from the labelled "
            "technical-analysis fallback."
        )
    return OverviewPage(cards, note, now)


# -- accuracy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccuracyKey:
    row: AccuracyRow
    beats_naive: bool | None
    chart: str | None


@dataclass(frozen=True)
class AccuracyPage:
    scored_at: datetime
    keys: list[AccuracyKey]
    any_scored: bool
    any_beats: bool


def rolling_mase(done: pd.DataFrame, window: int = ROLLING_WINDOW) -> pd.Series:
    """MASE of the last ``window`` scored forecasts (fewer while there are fewer), by target."""
    done = done.sort_values("target_time")
    a = done["actual"].to_numpy(dtype="float64")
    err = pd.Series(np.abs(a - done["predicted_price"].to_numpy(dtype="float64")))
    naive = pd.Series(np.abs(a - done["last_close"].to_numpy(dtype="float64")))
    w = max(1, min(window, len(done)))
    ratio = err.rolling(w).sum() / naive.rolling(w).sum().replace(0.0, np.nan)
    return pd.Series(ratio.to_numpy(), index=pd.DatetimeIndex(done["target_time"])).dropna()


def accuracy_page(pred: Predictor) -> AccuracyPage:
    """The ledger scored now: one entry per (coin, model type, horizon), with its chart."""
    now = pred.clock()
    frame = pred.ledger.scored(now=now)
    keys = []
    for row in score_frame(frame):
        g = frame[
            (frame["crypto_id"] == row.crypto_id)
            & (frame["model_type"] == row.model_type)
            & (frame["horizon"] == row.horizon)
        ]
        done = g[np.isfinite(g["actual"].to_numpy(dtype="float64"))]
        chart = None
        if row.n_scored:
            roll = rolling_mase(done)
            if len(roll):
                w = min(ROLLING_WINDOW, row.n_scored)
                chart = line_chart(
                    [LineSeries(f"MASE of the last {w}", [(t.to_pydatetime(), v) for t, v in roll.items()])],
                    f"{row.crypto_id} {row.model_type} h={row.horizon}: rolling MASE over the "
                    f"last {w} scored forecasts",
                    reference=(1.0, "naive = 1"),
                )
        beats = None if row.mase is None else row.mase < 1
        keys.append(AccuracyKey(row, beats, chart))
    return AccuracyPage(
        now,
        keys,
        any_scored=any(k.row.n_scored for k in keys),
        any_beats=any(k.beats_naive for k in keys),
    )


# -- models -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricPair:
    """A validation metric beside naive's; ``better`` is None when one side is missing."""

    name: str
    model: float | None
    naive: float | None
    better: bool | None


@dataclass(frozen=True)
class ReportLink:
    name: str
    href: str
    modified: datetime


@dataclass(frozen=True)
class ModelCard:
    record: ModelRecord
    metrics: list[MetricPair]
    coverages: list[tuple[str, float | None]]
    gate_reason: str | None
    events: list[StageEvent]
    timeline: str | None
    reports: list[ReportLink]


@dataclass(frozen=True)
class ModelsPage:
    cards: list[ModelCard]
    unserved: list[ModelCard]
    reports: list[ReportLink]


_PAIRS = (("MAE", "mae"), ("RMSE", "rmse"), ("MAPE %", "mape"))


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _gate_reason(record: ModelRecord, events: list[StageEvent]) -> str | None:
    gates = [e.reason for e in events if e.model_id == record.model_id and e.event == "gate"]
    if gates:
        return gates[-1]
    gate = record.metrics.get("gate")
    return str(gate.get("reason")) if isinstance(gate, dict) and gate.get("reason") else None


def _model_card(
    record: ModelRecord, events: list[StageEvent], reports: list[ReportLink]
) -> ModelCard:
    m = record.metrics
    mase = record.validation_mase
    pairs = [MetricPair("MASE", mase, 1.0 if mase is not None else None, None if mase is None else mase < 1)]
    for label, key in _PAIRS:
        model, naive = _num(m.get(key)), _num(m.get(f"naive_{key}"))
        if model is None and naive is None:
            continue
        better = None if model is None or naive is None else model < naive
        pairs.append(MetricPair(label, model, naive, better))
    coverages = [(f"{tag}%", _num(m.get(f"coverage_{tag}"))) for tag in ("80", "95")]
    timeline = None
    if events:
        timeline = timeline_chart(
            [
                TimelineEvent(e.at, f"v{e.version} {e.event}", f"{e.from_status or '-'} -> {e.to_status}: {e.reason}", e.event)
                for e in events
            ],
            f"stage history of {record.crypto_id} {record.model_type} h={record.horizon}",
        )
    mine = [r for r in reports if r.name.startswith(record.crypto_id)]
    return ModelCard(record, pairs, coverages, _gate_reason(record, events), events, timeline, mine)


def list_reports(reports_dir: Path | None, prefix: str) -> list[ReportLink]:
    """The HTML backtest reports in ``reports_dir`` (newest first), linked under ``prefix``."""
    if reports_dir is None or not reports_dir.is_dir():
        return []
    found = [p for p in reports_dir.glob("*.html") if p.is_file()]
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [
        ReportLink(p.name, f"{prefix}/{p.name}", datetime.fromtimestamp(p.stat().st_mtime, UTC))
        for p in found
    ]


def models_page(pred: Predictor, reports: list[ReportLink]) -> ModelsPage:
    """Production models per key with their history, and the keys no model serves (why)."""
    records = pred.registry.list_models()
    history: dict[tuple[str, str, int], list[StageEvent]] = defaultdict(list)
    for e in pred.registry.history():
        history[(e.crypto_id, e.model_type, e.horizon)].append(e)
    by_key: dict[tuple[str, str, int], list[ModelRecord]] = defaultdict(list)
    for r in records:
        by_key[r.key].append(r)
    cards, unserved = [], []
    for key in sorted(by_key):
        live = [r for r in by_key[key] if r.status == "production"]
        newest = live[-1] if live else by_key[key][-1]
        card = _model_card(newest, history.get(key, []), reports)
        (cards if live else unserved).append(card)
    return ModelsPage(cards, unserved, reports)


def age_text(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if abs(hours) < 48 else f"{hours / 24:.0f} days"
