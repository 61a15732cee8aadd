"""The served-forecast backtest: the product's track record, as users would have received it.

``backtest_served("bitcoin", 7)`` replays the real loop walk-forward over the last ``days``
origins: at every ``retrain_every``-th origin it trains each candidate on the candles up to that
date through the real pipeline (:func:`~cryptoforecast.replay.candidates.train_candidates`:
:func:`prepare_training_data`, the walk-forward validation, the Holm-corrected gate,
registration and promotion) into a throwaway registry, and until the next
retraining it forecasts each origin with exactly what :class:`~cryptoforecast.serving.Predictor`
serves from that registry and the candles up to the origin: the production model with the lowest
validation MASE, or the technical-analysis fallback when none earned production.

Lean by construction: the validation refits sit on a grid anchored at the first retraining
date, and each validation fit sees a fixed number of rows, so consecutive retrainings share most
of their validation fits (kept in a cache keyed by the fit's rows: the same result as refitting).

``scheduler="local"`` (or a Dask address) runs one Dask task per retraining date, each with its
own throwaway registry and no shared cache. That equals the sequential replay when the gate
retires a production model whose retrained successor fails (``retire_on_fail``, the default):
the registry's state after a retraining then depends on that retraining alone.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.assets import resolve_asset
from cryptoforecast.backtest.distribution_walk import level_tag, walk_distribution
from cryptoforecast.backtest.engine import FitCache
from cryptoforecast.compat import import_optional
from cryptoforecast.config import Settings
from cryptoforecast.data import load_ohlcv
from cryptoforecast.data.schema import check_interval
from cryptoforecast.data.times import as_of_instant
from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.distribution_summary import summarise_distribution
from cryptoforecast.evaluation.guard import guard_params
from cryptoforecast.evaluation.summary import summarise_results
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.features import warmup_rows
from cryptoforecast.models import load_plugins
from cryptoforecast.models.distribution import BASELINES, QUANTILES, MarketData
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.replay.candidates import train_candidates
from cryptoforecast.replay.guard import GuardedReplay, guard_served
from cryptoforecast.serving.distribution import as_predictive
from cryptoforecast.serving.point_forecast import COVERAGES
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.training.fit import trainable_models
from cryptoforecast.training.pipeline import resolve_settings

__all__ = [
    "BASELINE_REFIT",
    "FALLBACK",
    "ReplayPredictor",
    "ServedBacktest",
    "backtest_served",
    "baseline_columns",
    "distribution_scores",
    "guard_lines",
    "guard_summary",
    "replay_period",
    "report_runs",
    "served_distribution_summary",
    "served_table",
]

FALLBACK = "fallback"
DEFAULT_CANDIDATES = ("lightgbm", "xgboost", "lstm", "ensemble")
#: origins between refits of the baselines' scale models (garch_ref's protocol)
BASELINE_REFIT = 30
#: the central intervals scored, by coverage tag, as (lower, upper) quantile levels
_CENTRAL = {"80": (0.1, 0.9), "95": (0.025, 0.975)}


@dataclass
class ServedBacktest:
    """What users would have received: one row per origin, metrics beside naive, retrainings.

    ``results``: ``origin, served, model_id, y_true, y_pred, naive`` (prices; ``served`` is the
    model type or ``"fallback"``), plus ``close_at_origin``, interval bounds (the served
    distribution's quantiles), ``fallback`` (the technical-analysis forecast at every origin),
    ``retrain_date``, and as the ledger keeps them (JSON, ``None`` where there was none)
    ``distribution`` (the served one), ``reference_distribution`` (``garch_ref``) and
    ``gaussian_distribution`` (the 30-day Gaussian), both at location 0.
    The served predictive distribution (``Forecast.distribution``) adds ``q_<level>`` and
    ``price_q_<level>``, ``p_up``, ``sigma``, ``crps``, ``pit``, ``hit_80`` and ``hit_95`` (NaN
    where a forecast carried none), and the baselines' at the same origins
    (:func:`baseline_columns`, from the one walk-forward engine).
    ``metrics``: :func:`summarise_results` of the served forecasts (``model`` beside ``naive``,
    ``dm_pvalue``, ...) plus ``served_share`` (fraction of origins each candidate and the
    fallback served), ``fallback`` (the technical fallback's MASE and DM p over every origin) and
    ``distribution`` (:func:`served_distribution_summary`), and ``guard`` (:func:`guard_summary`).
    The live guard (:mod:`~cryptoforecast.replay.guard`) has already been applied: the served
    columns of origins it demoted hold the fallback's forecast, and ``guard_statistic``,
    ``guard_tripped`` and ``guard_demoted`` say what it did; ``unguarded_served``,
    ``unguarded_model_id`` and ``unguarded_y_pred`` keep what was served without it.
    ``retrains``: one row per (retraining date, candidate) with its gate evidence and decision,
    and one per guard demotion (``event`` ``"guard_demote"``, its ``origin`` and ``reason``).
    """

    crypto_id: str
    horizon: int
    results: pd.DataFrame
    metrics: dict[str, Any]
    retrains: pd.DataFrame
    runtime_s: float
    candidates: tuple[str, ...] = field(default_factory=tuple)


class ReplayPredictor(Predictor):
    """The service's :class:`Predictor`, reading candles from a frame "as of" ``end`` (those
    closed by then, as :func:`~cryptoforecast.data.times.as_of_instant` says)."""

    def __init__(self, candles: pd.DataFrame, registry: Any) -> None:
        super().__init__(registry=registry, cache_ttl=0, record=False)
        self._all = candles

    def candles(self, crypto_id: str) -> pd.DataFrame:
        out = self._all
        if self.end is not None:
            out = out[out.index + check_interval(self.interval) <= as_of_instant(self.end, "end")]
        out = out.iloc[-self._history_rows() :]
        out.attrs = dict(self._all.attrs)
        return out

    def fallback_forecast(self, candles: pd.DataFrame, horizon: int) -> float:
        """The technical-analysis fallback's log-return forecast from these candles (the last
        of them the served point forecast reads)."""
        recent = self.point_candles(candles)
        point, _ = self._fallback(recent, self.features(recent), horizon)
        return point


def replay_period(
    candles: pd.DataFrame,
    crypto_id: str,
    horizon: int,
    date: pd.Timestamp,
    origins: Sequence[pd.Timestamp],
    candidates: Sequence[str],
    settings: Settings,
    registry: ModelRegistry,
    predictor: ReplayPredictor | None = None,
    fit_cache: FitCache | None = None,
    anchor: pd.Timestamp | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Retrain at ``date``, then forecast ``origins`` as the service would: (rows, retrains)."""
    retrains = train_candidates(
        candles, crypto_id, horizon, date, candidates, settings, registry, fit_cache,
        date if anchor is None else anchor,
    )  # fmt: skip
    predictor = predictor or ReplayPredictor(candles, registry)
    close = candles["close"].astype("float64")
    position = {t: i for i, t in enumerate(candles.index)}
    rows = []
    step = check_interval(predictor.interval)
    for origin in origins:
        predictor.end = origin + step  # as of the origin's close: the service's first chance
        forecast = predictor.predict(crypto_id, horizon)
        i = position[origin]
        last = float(forecast.last_close)
        if forecast.source == "model":
            fb = predictor.fallback_forecast(predictor.candles(crypto_id), horizon)
        else:
            fb = float(forecast.predicted_return)
        row = {
            "origin": origin,
            "served": forecast.model_type if forecast.source == "model" else FALLBACK,
            "model_id": forecast.model_id,
            "y_true": float(close.iloc[i + horizon]),
            "y_pred": float(forecast.predicted_price),
            "naive": last,
            "close_at_origin": last,
            "fallback": last * math.exp(fb),
            "retrain_date": date,
            "target_time": candles.index[i + horizon],
            "horizon": horizon,
            "next_return": float(close.iloc[i + 1] / close.iloc[i] - 1.0),
        }
        row["y_true_logret"] = math.log(row["y_true"] / last)
        row["y_pred_logret"] = math.log(row["y_pred"] / last)
        for c in COVERAGES:
            lo, hi = forecast.intervals.get(c, (math.nan, math.nan))
            row[f"lower_{round(c * 100)}"], row[f"upper_{round(c * 100)}"] = lo, hi
        # the served distribution and its baselines at the same origin, as the ledger keeps them
        kept = predictor.baseline_distributions(crypto_id, horizon, predictor.candles(crypto_id))
        for name, dist in (
            ("distribution", forecast.distribution),
            ("reference_distribution", kept.reference),
            ("gaussian_distribution", kept.gaussian),
        ):
            row[name] = None if dist is None else dist.model_dump_json()
        if forecast.distribution is not None:
            row.update(distribution_scores(forecast.distribution, last, row["y_true_logret"]))
        rows.append(row)
    return rows, retrains


def distribution_scores(dist: Any, close_at_origin: float, y_logret: float) -> dict[str, float]:
    """One origin's columns of the served distribution ``dist`` (a ``ForecastDistribution`` of
    the h-step log return) against the realised log return ``y_logret``: ``q_<level>`` (log
    returns) and ``price_q_<level>``, ``p_up``, ``sigma``, the exact ``crps``, ``pit`` and
    ``hit_80`` / ``hit_95`` (1.0 when inside that central interval of its quantiles)."""
    pred = as_predictive(dist)
    q = pred.quantiles(QUANTILES).iloc[0]
    out: dict[str, float] = {}
    for level, value in q.items():
        out[f"q_{level_tag(float(level))}"] = float(value)
        out[f"price_q_{level_tag(float(level))}"] = close_at_origin * math.exp(float(value))
    out["p_up"] = float(pred.p_up().iloc[0])
    out["sigma"] = float(dist.scale)
    out["crps"] = float(pred.crps([y_logret])[0])
    out["pit"] = float(pred.pit([y_logret])[0])
    for tag, (lo, hi) in _CENTRAL.items():
        out[f"hit_{tag}"] = float(q[lo] <= y_logret <= q[hi])
    return out


def baseline_columns(
    candles: pd.DataFrame, origins: Sequence[pd.Timestamp], horizon: int
) -> pd.DataFrame:
    """The baselines at ``origins`` (one row each), from ``candles`` up to each origin only:
    ``garch_ref``, ``ewma_t`` and the 30-day ``rolling_gaussian`` through
    :func:`~cryptoforecast.backtest.distribution_walk.walk_distribution` (location 0, their own
    parametric shapes, no calibration, refit every :data:`BASELINE_REFIT` origins; an origin
    before ``garch_ref`` has 500 returns stays NaN). Columns per baseline ``B``:
    ``B_q_<level>`` (log returns), ``p_up_B``, ``crps_B``, ``pit_B``, ``hit_80_B``,
    ``hit_95_B``; and ``vol_ref`` (the rolling Gaussian's scale, for volatility terciles)."""
    h = int(horizon)
    close = candles["close"].astype("float64")
    y = pd.Series(np.log(close.shift(-h) / close), index=close.index)
    market = MarketData(candles)
    index = pd.DatetimeIndex(origins)
    out = pd.DataFrame(index=index)
    y_o = y.reindex(index)
    for base in BASELINES:
        walk = walk_distribution(
            market, index, y, base, h, retrain_frequency=BASELINE_REFIT, calibration="none",
            wait_for_history=True,
        )  # fmt: skip
        for level in walk.quantiles.columns:
            out[f"{base}_q_{level_tag(level)}"] = walk.quantiles[level]
        out[f"p_up_{base}"] = walk.p_up
        out[f"crps_{base}"] = walk.crps
        out[f"pit_{base}"] = walk.pit
        for tag, (lo, hi) in _CENTRAL.items():
            inside = (walk.quantiles[lo] <= y_o) & (y_o <= walk.quantiles[hi])
            known = walk.quantiles[lo].notna() & y_o.notna()
            out[f"hit_{tag}_{base}"] = inside.astype("float64").where(known)
        if base == "rolling_gaussian":
            out["vol_ref"] = walk.sigma
    return out


def served_distribution_summary(results: pd.DataFrame, horizon: int) -> dict[str, Any]:
    """The served distribution's scores beside every baseline's, on the origins where the served
    forecast carried a distribution and every baseline was scored (``n``): the
    :func:`~cryptoforecast.evaluation.distribution_summary.summarise_distribution` block (CRPS,
    coverage, PIT histogram, skill and DM p against each baseline) plus ``pit_mean`` and
    ``baselines`` (each baseline's ``crps``, ``coverage``, ``pit_mean`` and ``pit_histogram`` on
    the same origins). Origins left out are counted: ``n_without_distribution`` (the served
    forecast carried none) and ``n_without_baselines`` (a baseline had too little history)."""
    has = results["crps"].notna() if "crps" in results else pd.Series(False, index=results.index)
    base_ok = pd.Series(True, index=results.index)
    for base in BASELINES:
        col = f"crps_{base}"
        base_ok &= results[col].notna() if col in results else False
    same = has & base_ok
    counts = {
        "n_without_distribution": int((~has).sum()),
        "n_without_baselines": int((has & ~base_ok).sum()),
    }
    if not same.any():
        reason = (
            "no served forecast carried a distribution"
            if not has.any()
            else "no origin has every baseline scored (garch_ref needs 500 daily returns)"
        )
        return {"model": "served", "n": 0, "reason": reason, **counts}
    frame = results.loc[same]
    block = summarise_distribution(frame, horizon, model="served")
    block.update(counts)
    block["pit_mean"] = float(frame["pit"].mean())
    block["baselines"] = {}
    for base in BASELINES:
        renamed = frame.drop(columns=[c for c in frame.columns if c.startswith("q_")])
        for c in frame.columns:
            if c.startswith(f"{base}_q_"):
                renamed[c[len(base) + 1 :]] = frame[c]
        renamed = renamed.assign(
            crps=frame[f"crps_{base}"], pit=frame[f"pit_{base}"], p_up=frame[f"p_up_{base}"]
        )
        b = summarise_distribution(renamed, horizon, model=base)
        block["baselines"][base] = {
            "n": b["n"],
            "crps": b.get("crps", math.nan),
            "coverage": b.get("coverage", {}),
            "pit_mean": float(frame[f"pit_{base}"].mean()),
            "pit_histogram": b.get("pit_histogram", []),
        }
    return block


def _period_task(
    candles: pd.DataFrame,
    crypto_id: str,
    horizon: int,
    date: pd.Timestamp,
    origins: list[pd.Timestamp],
    candidates: list[str],
    settings: dict[str, Any],
    anchor: pd.Timestamp,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One Dask task: a throwaway registry, one retraining date and its origins."""
    load_plugins(Settings.model_validate(settings), worker=True)  # a worker answers no requests
    with tempfile.TemporaryDirectory(prefix="cf-served-") as tmp:
        reg = ModelRegistry(f"sqlite:///{Path(tmp) / 'registry.db'}", Path(tmp) / "artifacts")
        try:
            return replay_period(
                candles, crypto_id, horizon, date, origins, candidates,
                Settings.model_validate(settings), reg, anchor=anchor, fit_cache={},
            )  # fmt: skip
        finally:
            reg.close()


def _summary(results: pd.DataFrame, horizon: int, candidates: Sequence[str]) -> dict[str, Any]:
    res = results
    metrics = summarise_results(res, horizon=horizon, coverages=COVERAGES)
    counts = results["served"].value_counts(normalize=True)
    metrics["served_share"] = {k: float(counts.get(k, 0.0)) for k in (*candidates, FALLBACK)}
    fb = summarise_results(res.assign(y_pred=res["fallback"]), horizon=horizon, coverages=())
    metrics["fallback"] = {
        "mase": fb["model"]["mase"],
        "dm_pvalue": fb["dm_pvalue"],
        "dm_favours": fb["dm_favours"],
    }
    metrics["distribution"] = served_distribution_summary(results, horizon)
    return metrics


def guard_summary(
    guarded: GuardedReplay, results: pd.DataFrame, horizon: int, enabled: bool
) -> dict[str, Any]:
    """What the guard did: ``enabled``, ``trips`` (decision origin, model id, evidence),
    ``demoted_origins`` (origins it moved to the fallback), and on every origin the served
    ``mase_with_guard`` and ``mase_without_guard`` (naive: 1) with ``mase_saved`` (without minus
    with: positive when the guard helped, negative when it cost)."""
    unguarded = results.assign(y_pred=results["unguarded_y_pred"])
    without = summarise_results(unguarded, horizon=horizon, coverages=())["model"]["mase"]
    with_guard = summarise_results(results, horizon=horizon, coverages=())["model"]["mase"]
    return {
        "enabled": enabled,
        "trips": guarded.trips,
        "n_trips": len(guarded.trips),
        "demoted_origins": int(results["guard_demoted"].sum()),
        "mase_with_guard": with_guard,
        "mase_without_guard": without,
        "mase_saved": without - with_guard,
    }


def guard_lines(block: dict[str, Any]) -> list[str]:
    """The guard's block (:func:`guard_summary`) as printed lines: what it did beside naive."""
    if not block.get("enabled"):
        return ["live guard: off (guard.enabled = false)"]
    lines = [
        f"live guard: {block['n_trips']} trip(s), {block['demoted_origins']} origin(s) moved to "
        f"the fallback; served MASE {block['mase_with_guard']:.3f} with the guard, "
        f"{block['mase_without_guard']:.3f} without (naive 1.000)"
    ]
    lines += [
        f"  {str(t['origin'])[:10]} model {t['model_id']}: {t['reason']}" for t in block["trips"]
    ]
    return lines


def backtest_served(
    crypto_id: str,
    horizon: int,
    *,
    data: pd.DataFrame | None = None,
    days: int = 1095,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    retrain_every: int = 7,
    config: Settings | Mapping[str, Any] | str | Path | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> ServedBacktest:
    """Replay train -> gate -> promote -> serve over the last ``days`` origins (module docstring).

    Args:
        crypto_id: asset id or symbol.
        horizon: forecast horizon in candles.
        data: candles (default: the embedded snapshot's full history of ``crypto_id``).
        days: origins to replay (each with a known outcome ``horizon`` candles later).
        candidates: model types trained at each retraining date (the gate's Holm family).
        retrain_every: origins between retrainings (7: weekly).
        config: settings (see ``train_model_for_crypto``).
        scheduler: ``None`` (sequential, sharing validation fits), ``"local"`` (a Dask
            ``LocalCluster``) or a Dask scheduler address: one task per retraining date.
        n_workers: workers of the local Dask cluster (default: one per core).
    """
    settings = resolve_settings(config)
    load_plugins(settings)
    trainable = trainable_models()
    unknown = [c for c in candidates if c not in trainable]
    if unknown or not candidates:
        raise ConfigError(
            f"candidates must be model types from {', '.join(trainable)}, got {list(candidates)!r}"
        )
    for name, value in (("days", days), ("retrain_every", retrain_every), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
    t0 = time.perf_counter()
    asset = resolve_asset(crypto_id)
    candles = load_ohlcv(asset.id) if data is None else data
    n = len(candles)
    need = days + horizon + warmup_rows() + 100
    if n < need:
        raise DataError(
            f"{n} candles of {asset.id} are too few to replay {days} origins at h={horizon} "
            f"(need at least {need}: history to train on before the first origin); lower days"
        )
    origins = list(candles.index[n - horizon - days : n - horizon])
    dates = origins[::retrain_every]
    periods = [
        (d, origins[i * retrain_every : (i + 1) * retrain_every]) for i, d in enumerate(dates)
    ]
    rows: list[dict[str, Any]] = []
    retrains: list[dict[str, Any]] = []
    if scheduler is None:
        with tempfile.TemporaryDirectory(prefix="cf-served-") as tmp:
            reg = ModelRegistry(f"sqlite:///{Path(tmp) / 'registry.db'}", Path(tmp) / "artifacts")
            predictor = ReplayPredictor(candles, reg)
            cache: dict[tuple[Any, ...], Any] = {}
            try:
                for date, block in periods:
                    r, t = replay_period(
                        candles, asset.id, horizon, date, block, candidates, settings, reg,
                        predictor, cache, dates[0],
                    )  # fmt: skip
                    rows += r
                    retrains += t
            finally:
                reg.close()
    else:
        rows, retrains = _on_dask(
            candles, asset.id, horizon, periods, list(candidates), settings, dates[0],
            scheduler, n_workers,
        )  # fmt: skip
    results = pd.DataFrame(rows)
    promoted = {r["retrain_date"] for r in retrains if r.get("promoted")}
    guarded = guard_served(
        results, horizon, promoted,
        guard_params(settings.guard) if settings.guard.enabled else None,
        FALLBACK, distribution_scores,
    )  # fmt: skip
    results = guarded.results
    for col in ("served", "model_id", "y_pred"):
        results[f"unguarded_{col}"] = guarded.unguarded[col].to_numpy()
    results.insert(1, "fold", results["retrain_date"].rank(method="dense").astype(int) - 1)
    results["model_type"] = results["served"]
    baselines = baseline_columns(candles, origins, horizon)
    results = results.join(baselines, on="origin")
    metrics = _summary(results, horizon, candidates)
    metrics["guard"] = guard_summary(guarded, results, horizon, settings.guard.enabled)
    return ServedBacktest(
        crypto_id=asset.id,
        horizon=horizon,
        results=results,
        metrics=metrics,
        retrains=pd.DataFrame(retrains + guarded.events),
        runtime_s=time.perf_counter() - t0,
        candidates=tuple(candidates),
    )


def _on_dask(
    candles: pd.DataFrame,
    crypto_id: str,
    horizon: int,
    periods: list[tuple[pd.Timestamp, list[pd.Timestamp]]],
    candidates: list[str],
    settings: Settings,
    anchor: pd.Timestamp,
    scheduler: str,
    n_workers: int | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One Dask task per retraining date; rows come back in date order."""
    if not settings.promotion_gate.retire_on_fail:
        raise ConfigError(
            "a Dask served backtest needs promotion_gate.retire_on_fail = true (each task starts "
            "from an empty registry); run it sequentially (scheduler=None) otherwise"
        )
    dist = import_optional("distributed", "backtest_served on Dask")
    cluster = None
    if scheduler == "local":
        cluster = dist.LocalCluster(
            n_workers=n_workers or 2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
            silence_logs=logging.WARNING,
        )
        client = dist.Client(cluster)
    else:
        client = dist.Client(scheduler, timeout="10s")
    try:
        data = client.scatter(candles, broadcast=True)
        plain = settings.model_dump()
        futures = [
            client.submit(
                _period_task,
                data,
                crypto_id,
                horizon,
                d,
                block,
                candidates,
                plain,
                anchor,
                pure=False,
            )  # fmt: skip
            for d, block in periods
        ]
        rows: list[dict[str, Any]] = []
        retrains: list[dict[str, Any]] = []
        for r, t in client.gather(futures):
            rows += r
            retrains += t
        return rows, retrains
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def report_runs(bt: ServedBacktest) -> list[BacktestRun]:
    """The served forecasts and the technical fallback at every origin, as report runs."""
    fallback = bt.results.assign(
        y_pred=bt.results["fallback"],
        y_pred_logret=np.log(bt.results["fallback"] / bt.results["close_at_origin"]),
        model_type=FALLBACK,
    )
    for c in COVERAGES:  # the fallback's own bands are not kept for model-served origins
        tag = round(c * 100)
        fallback[f"lower_{tag}"] = fallback[f"upper_{tag}"] = np.nan
    return [
        BacktestRun("served", bt.results, bt.metrics),
        BacktestRun(
            "technical fallback (every origin)",
            fallback,
            summarise_results(fallback, horizon=bt.horizon, coverages=()),
        ),
    ]


def served_table(bt: ServedBacktest) -> dict[str, Any]:
    """The served figures in one flat dict (for benchmarks and the CLI)."""
    m = bt.metrics
    return {
        "crypto_id": bt.crypto_id,
        "horizon": bt.horizon,
        "origins": int(len(bt.results)),
        "served_mase": m["model"]["mase"],
        "dm_pvalue": m["dm_pvalue"],
        "dm_favours": m["dm_favours"],
        "directional_accuracy": m["model"]["directional_accuracy"],
        "coverage_80": m["model"].get("coverage_80", np.nan),
        "fallback_mase": m["fallback"]["mase"],
        "fallback_dm_pvalue": m["fallback"]["dm_pvalue"],
        "served_share": m["served_share"],
        **_distribution_figures(m.get("distribution", {})),
        "runtime_s": bt.runtime_s,
    }


def _distribution_figures(block: dict[str, Any]) -> dict[str, Any]:
    """The served distribution's CRPS, coverage and PIT mean beside each baseline's (flat)."""
    out: dict[str, Any] = {
        "distribution_origins": block.get("n", 0),
        "served_crps": block.get("crps", np.nan),
        "served_coverage_80": block.get("coverage", {}).get("80", np.nan),
        "served_coverage_95": block.get("coverage", {}).get("95", np.nan),
        "served_pit_mean": block.get("pit_mean", np.nan),
    }
    for base in BASELINES:
        b = block.get("baselines", {}).get(base, {})
        skill = block.get("skill", {}).get(base, {})
        out[f"{base}_crps"] = b.get("crps", np.nan)
        out[f"{base}_coverage_80"] = b.get("coverage", {}).get("80", np.nan)
        out[f"{base}_coverage_95"] = b.get("coverage", {}).get("95", np.nan)
        out[f"{base}_pit_mean"] = b.get("pit_mean", np.nan)
        out[f"crps_skill_vs_{base}_pct"] = skill.get("crps_skill_pct", np.nan)
        out[f"dm_pvalue_vs_{base}"] = skill.get("dm_pvalue", np.nan)
    return out
