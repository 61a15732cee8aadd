"""Distribution versions: the scale models of one (coin, horizon) trained, gated and registered.

``train_distributions("bitcoin", 7)`` makes every candidate of ``distribution.candidates``
(``garch_t``, ``har_rv``, ``ewma_t``, ``lightgbm_vol`` by default) compete for the (coin,
horizon)'s one production distribution, against the fallback that serves without one,
``garch_ref``:

1. **Candles.** The last ``days`` daily candles up to ``end`` (the window) plus up to
   :data:`~cryptoforecast.models.distribution.REFERENCE_WINDOW` daily candles before it (the
   reference fits on up to 1,500 returns before each origin and needs 500, as it is served), and
   the coin's 4h candles over the window when the source keeps them (the snapshot and Binance).
   CoinGecko and a daily CSV have none: then ``har_rv`` and ``lightgbm_vol`` read the daily
   candles' squared returns and ranges instead, and the record says so (``intraday: false`` with
   ``intraday_note``). A missing or corrupt input raises :class:`DataError` before anything is
   written.
2. **Validation** (:func:`validation_walks`): the last ``training.validation_size`` origins of the
   window with a known ``h``-day return (fewer on a short window: at most a third of them, as the
   point validation does). Every candidate is walked forward with
   :func:`~cryptoforecast.backtest.walk_distribution` (the one engine) on the window's candles,
   refitting every ``training.validation_retrain_every`` origins, location 0 (the gate judges
   scale and shape) and its calibration (``distribution.calibration``); nothing after an origin
   is read for that origin. ``garch_ref`` (uncalibrated, as it is served), ``ewma_t`` and the
   30-day rolling Gaussian are walked on the same origins over the longer history.
3. **Gate** (:mod:`~cryptoforecast.training.distribution_gate`): each candidate's CRPS against
   ``garch_ref``'s on the origins every model scored; Holm over the candidates; sub-periods;
   the best of those that pass is chosen.
4. **Final fit** of each candidate on every candle of the window
   (``DistributionForecaster(name, horizon, calibration=...).fit(MarketData(daily, intraday))``).
5. **Registration** (``save=True``): every candidate that was fitted is registered as a
   distribution version (``model_type`` :data:`~cryptoforecast.registry.DISTRIBUTION`, the scale
   model in ``config["distribution"]``) with its metrics beside the three baselines', its gate
   decision, config and lineage, through
   :meth:`~cryptoforecast.registry.ModelRegistry.register_with_decision` (save, row, decision and
   promotion in one transaction each). Candidates that failed go first (with
   ``promotion_gate.retire_on_fail`` they archive the key's production version: the newer
   evidence does not confirm it), then those that passed but were not chosen, and the chosen one
   last, so it is never archived by its own family. A failure halfway leaves only what was
   committed before it.

``train_model`` does not call this; the ``train`` and ``retrain`` commands and the scheduled
retraining call both.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from cryptoforecast.backtest import DistributionWalk, walk_combination, walk_distribution
from cryptoforecast.config import Settings
from cryptoforecast.data import FILE_SOURCE, load_ohlcv
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.models.distribution import (
    BASELINES,
    COMBINATION,
    COMBINATION_LEVELS,
    QUANTILES,
    REFERENCE_WINDOW,
    VOLATILITY_MODELS,
    CombinedDistribution,
    DistributionForecaster,
    MarketData,
    fitted_weights,
)
from cryptoforecast.registry import DISTRIBUTION, compute_lineage
from cryptoforecast.training.distribution_gate import (
    REFERENCE,
    DistributionGateDecision,
    decide_distributions,
)
from cryptoforecast.training.pipeline import resolve_settings
from cryptoforecast.training.registration import config_record, json_safe, registry_or_default
from cryptoforecast.training.results import TrainingSummary

if TYPE_CHECKING:
    from cryptoforecast.registry import ModelRecord

__all__ = [
    "INTRADAY_SOURCES",
    "CandidateResult",
    "DistributionData",
    "DistributionMetrics",
    "DistributionTraining",
    "SavableDistribution",
    "ValidationWalks",
    "candidate_metrics",
    "candidate_params",
    "distribution_data",
    "final_fits",
    "load_distribution_data",
    "train_distributions",
    "validation_walks",
]

log = logging.getLogger(__name__)

#: the sources that keep 4h candles beside the daily ones
INTRADAY_SOURCES: tuple[str, ...] = ("snapshot", "binance")


class SavableDistribution(Protocol):
    """A fitted distribution version: what registration saves into the directory it is given."""

    def save(self, path: Path) -> object: ...


@dataclass(frozen=True)
class DistributionData:
    """What a distribution training reads.

    ``daily`` holds the window (from ``window_start``) and the reference's history before it;
    ``intraday`` the window's 4h candles (``None`` without; ``intraday_note`` says why).
    """

    crypto_id: str
    horizon: int
    daily: pd.DataFrame
    window_start: pd.Timestamp
    intraday: pd.DataFrame | None = None
    intraday_note: str | None = None

    @property
    def window(self) -> pd.DataFrame:
        """The training window's daily candles (what the candidates fit on)."""
        return self.daily.loc[self.window_start :]

    @property
    def target(self) -> pd.Series:
        """The realised ``h``-day log return at each daily candle (NaN where not known)."""
        close = self.daily["close"].astype("float64")
        return pd.Series(np.log(close.shift(-self.horizon) / close), index=close.index)

    def reads_intraday(self, name: str) -> bool:
        """Whether candidate ``name`` reads 4h candles here (it can, and there are some; a
        combination when one of the scale models it may combine does)."""
        if name == COMBINATION:
            return any(self.reads_intraday(n) for n in VOLATILITY_MODELS)
        model = VOLATILITY_MODELS.get(name)
        return self.intraday is not None and model is not None and model.reads_intraday

    def market(self, name: str) -> MarketData:
        """The window as candidate ``name`` reads it: with the 4h candles if it uses them."""
        return MarketData(self.window, self.intraday if self.reads_intraday(name) else None)

    def intraday_note_for(self, name: str) -> str | None:
        """Why ``name`` reads daily candles only where it would read 4h ones, else ``None``."""
        model = VOLATILITY_MODELS.get(name)
        if self.intraday is None and model is not None and model.reads_intraday:
            return f"{name} on daily candles: {self.intraday_note or 'no 4h candles'}"
        return None

    def origins(self, validation_size: int) -> pd.DatetimeIndex:
        """The validation origins: the window's last ``validation_size`` candles with a known
        ``h``-day return (at most a third of them)."""
        known = self.target.loc[self.window_start :].dropna().index
        n = min(int(validation_size), len(known) // 3)
        if n < 10:
            raise DataError(
                f"the {len(self.window)}-day window has {len(known)} origins with a known "
                f"{self.horizon}-day return, too few for a distribution validation (need at "
                "least 30); train on more days"
            )
        return pd.DatetimeIndex(known[-n:])


def distribution_data(
    crypto_id: str,
    daily: pd.DataFrame,
    days: int,
    horizon: int,
    intraday: pd.DataFrame | None = None,
    intraday_note: str | None = None,
) -> DistributionData:
    """The data of a distribution training from candles already loaded: the window is the last
    ``days`` of ``daily``; ``intraday`` is cut to the window (``None`` when it has no candle
    there)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DataError(f"days must be a positive whole number of candles, got {days!r}")
    if not isinstance(daily, pd.DataFrame) or daily.empty or "close" not in daily:
        raise DataError(f"no daily candles with a 'close' column for {crypto_id!r}")
    if len(daily) < days:
        raise DataError(
            f"{len(daily)} daily candles of {crypto_id!r} are fewer than the {days}-day training "
            f"window; train on days <= {len(daily)} or load a longer history"
        )
    start = daily.index[-days]
    if intraday is not None:
        intraday = intraday.loc[intraday.index >= start]
        if intraday.empty:
            intraday, intraday_note = None, intraday_note or "no 4h candle in the window"
    return DistributionData(crypto_id, int(horizon), daily, start, intraday, intraday_note)


def load_distribution_data(
    crypto_id: str,
    days: int,
    horizon: int,
    source: str = "snapshot",
    end: Any = None,
    path: str | Path | None = None,
) -> DistributionData:
    """Load the window's daily candles (plus the reference's history) and, where ``source``
    keeps them, the 4h candles (see the module docstring)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DataError(f"days must be a positive whole number of candles, got {days!r}")
    live = source in ("binance", "coingecko") and end is None
    kwargs: dict[str, Any] = {"source": source, "end": end}
    if path is not None:
        kwargs["path"] = path
    if live:
        kwargs["refresh"] = True  # today's candles, not a stale cache
    daily = load_ohlcv(crypto_id, days=days + REFERENCE_WINDOW + horizon, **kwargs)
    coin = str(daily.attrs.get("crypto_id", crypto_id))
    intraday, note = None, None
    # an imported coin keeps the 4h candles imported for it (``data import --interval 4h``); a
    # file read once (path=) has its own interval only
    if source in INTRADAY_SOURCES or (source == FILE_SOURCE and path is None):
        try:
            intraday = load_ohlcv(coin, interval="4h", **kwargs)
        except DataError as exc:
            note = f"no 4h candles from {source}: {exc}"
            log.warning("%s: training distributions on daily candles only: %s", coin, note)
    else:
        note = (
            f"the {source} file has no 4h candles (import them with "
            f"`cryptoforecast data import {coin} FILE --interval 4h`)"
            if source == FILE_SOURCE
            else f"the {source} source has no 4h candles"
        )
    return distribution_data(coin, daily, days, horizon, intraday, note)


@dataclass(frozen=True)
class ValidationWalks:
    """The validation walks of one (coin, horizon): every candidate's (``walks``) and the
    baselines' (``baselines``: ``garch_ref``, ``ewma_t``, ``rolling_gaussian``) on the same
    ``origins``; ``errors`` names the candidates that could not be walked and why."""

    origins: pd.DatetimeIndex
    target: pd.Series
    walks: dict[str, DistributionWalk]
    baselines: dict[str, DistributionWalk]
    errors: dict[str, str] = field(default_factory=dict)

    def scored(self, name: str) -> np.ndarray:
        """The origins where candidate ``name`` and every baseline have a CRPS."""
        ok = np.isfinite(self.walks[name].crps.to_numpy())
        for walk in self.baselines.values():
            ok &= np.isfinite(walk.crps.to_numpy())
        return ok

    def crps(self, name: str) -> np.ndarray:
        """Candidate ``name``'s per-origin CRPS where every baseline scored too, NaN elsewhere."""
        return np.where(self.scored(name), self.walks[name].crps.to_numpy(), np.nan)

    def baseline_crps(self, base: str, on: str) -> np.ndarray:
        """Baseline ``base``'s per-origin CRPS on the origins candidate ``on`` is scored on."""
        return np.where(self.scored(on), self.baselines[base].crps.to_numpy(), np.nan)


def _scale_models(names: Sequence[str]) -> list[str]:
    """The candidates among ``names`` that are one scale model each (walked and fitted alone)."""
    return [n for n in names if n in VOLATILITY_MODELS]


def candidate_params(name: str, settings: Settings) -> dict[str, Any] | None:
    """The volatility model's parameters of candidate ``name`` (``garch_t`` as GJR when
    ``distribution.garch_gjr``), or ``None`` for its defaults."""
    if name == "garch_t" and settings.distribution.garch_gjr:
        return {"gjr": True}
    return None


def validation_walks(
    data: DistributionData, candidates: Sequence[str], settings: Settings
) -> ValidationWalks:
    """Walk every candidate and the baselines over the validation origins (module docstring).

    A candidate whose walk raises :class:`DataError` (too short a window for it) is left out and
    named in ``errors``; a baseline that cannot be fitted at an origin (``garch_ref`` with under
    500 returns before it) leaves that origin unscored.
    """
    origins = data.origins(settings.training.validation_size)
    y = data.target
    every = settings.training.validation_retrain_every
    walks: dict[str, DistributionWalk] = {}
    errors: dict[str, str] = {}
    # a combination averages its members' quantiles: they are walked at its finer levels (the
    # CRPS of each is exact either way)
    levels = COMBINATION_LEVELS if COMBINATION in candidates else QUANTILES
    for name in _scale_models(candidates):
        try:
            walks[name] = walk_distribution(
                data.market(name),
                origins,
                y,
                name,
                data.horizon,
                retrain_frequency=every,
                calibration=settings.distribution.calibration,
                volatility_params=candidate_params(name, settings),
                quantiles=levels,
            )
        except DataError as exc:
            log.warning("%s h=%d: %s not validated: %s", data.crypto_id, data.horizon, name, exc)
            errors[name] = str(exc)
    if COMBINATION in candidates:
        members = {n: walks[n] for n in _scale_models(candidates) if n in walks}
        if len(members) >= 2:
            walks[COMBINATION] = walk_combination(members, y, data.horizon)
        else:
            errors[COMBINATION] = (
                f"a combination needs at least 2 validated members, got {sorted(members)}"
            )
    history = MarketData(data.daily)  # the baselines read the longer history, as served
    baselines = {
        base: walk_distribution(
            history,
            origins,
            y,
            base,
            data.horizon,
            retrain_frequency=every,
            calibration="none",
            wait_for_history=True,
        )
        for base in BASELINES
    }
    return ValidationWalks(origins, y, walks, baselines, errors)


@dataclass(frozen=True)
class DistributionMetrics:
    """A candidate's validation beside the baselines', all on the origins every model scored.

    ``crps_skill_pct`` is against ``garch_ref`` (positive: better); ``coverage_80`` /
    ``coverage_95`` are the shares of realised returns inside the central intervals, beside
    ``garch_ref``'s. Non-finite figures are NaN; :meth:`to_dict` is the flat dict stored.
    """

    distribution: str
    calibration: str
    intraday: bool
    n_validation: int
    n_refits: int
    validation_start: str | None
    validation_end: str | None
    crps: float
    crps_garch_ref: float
    crps_ewma_t: float
    crps_rolling_gaussian: float
    crps_skill_pct: float
    crps_skill_ewma_t_pct: float
    crps_skill_rolling_gaussian_pct: float
    coverage_80: float
    coverage_95: float
    coverage_80_garch_ref: float
    coverage_95_garch_ref: float
    fit_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _skill(crps: float, base: float) -> float:
    return 100.0 * (1.0 - crps / base) if base > 0 and math.isfinite(crps) else math.nan


def _coverage(walk: DistributionWalk, y: np.ndarray, ok: np.ndarray, level: float) -> float:
    q = walk.quantiles
    levels = {round(float(c), 6): c for c in q.columns}
    lo, hi = levels.get(round((1 - level) / 2, 6)), levels.get(round((1 + level) / 2, 6))
    if lo is None or hi is None or not ok.any():
        return math.nan
    inside = (y >= q[lo].to_numpy()) & (y <= q[hi].to_numpy())
    return float(inside[ok].mean())


def candidate_metrics(
    validation: ValidationWalks, name: str, calibration: str, intraday: bool
) -> DistributionMetrics:
    """Candidate ``name``'s :class:`DistributionMetrics` from the validation walks."""
    ok = validation.scored(name)
    walk = validation.walks[name]
    y = validation.target.reindex(validation.origins).to_numpy(dtype="float64")
    base = {b: _mean(validation.baseline_crps(b, name)) for b in BASELINES}
    own = _mean(validation.crps(name))
    used = validation.origins[ok]
    return DistributionMetrics(
        distribution=name,
        calibration=calibration,
        intraday=intraday,
        n_validation=int(ok.sum()),
        n_refits=int(walk.n_refits),
        validation_start=str(used[0]) if len(used) else None,
        validation_end=str(used[-1]) if len(used) else None,
        crps=own,
        crps_garch_ref=base[REFERENCE],
        crps_ewma_t=base["ewma_t"],
        crps_rolling_gaussian=base["rolling_gaussian"],
        crps_skill_pct=_skill(own, base[REFERENCE]),
        crps_skill_ewma_t_pct=_skill(own, base["ewma_t"]),
        crps_skill_rolling_gaussian_pct=_skill(own, base["rolling_gaussian"]),
        coverage_80=_coverage(walk, y, ok, 0.8),
        coverage_95=_coverage(walk, y, ok, 0.95),
        coverage_80_garch_ref=_coverage(validation.baselines[REFERENCE], y, ok, 0.8),
        coverage_95_garch_ref=_coverage(validation.baselines[REFERENCE], y, ok, 0.95),
        fit_seconds=float(walk.fit_seconds),
    )


def final_fits(
    data: DistributionData,
    names: Sequence[str],
    settings: Settings,
    validation: ValidationWalks | None = None,
) -> tuple[dict[str, SavableDistribution], dict[str, str]]:
    """Each candidate fitted on every candle of the window: ``(fitted, errors)``, a candidate
    whose fit raises :class:`DataError` named in ``errors`` instead. ``validation`` (the
    candidates' validation walks) is what a candidate built from the others' scores reads."""
    cfg = settings.distribution
    fitted: dict[str, SavableDistribution] = {}
    errors: dict[str, str] = {}
    singles: dict[str, DistributionForecaster] = {}
    for name in _scale_models(names):
        try:
            fitted[name] = singles[name] = DistributionForecaster(
                name,
                data.horizon,
                calibration=cfg.calibration,
                calibration_fraction=cfg.calibration_fraction,
                volatility_params=candidate_params(name, settings),
            ).fit(data.market(name))
        except DataError as exc:
            errors[name] = f"the final fit failed: {exc}"
    if COMBINATION in names and validation is not None and COMBINATION in validation.walks:
        walk = validation.walks[COMBINATION]
        members = [] if walk.weights is None else [str(c) for c in walk.weights.columns]
        missing = [m for m in members if m not in singles]
        if not members or missing:
            errors[COMBINATION] = (
                f"the final fit failed: its members {missing or members} have no final fit"
            )
        else:
            # the weights to serve: from every validation origin's CRPS (all known by now)
            crps = pd.DataFrame({m: validation.walks[m].crps for m in members})
            fitted[COMBINATION] = CombinedDistribution(
                {m: singles[m] for m in members},
                fitted_weights(crps.dropna()),
            )
    return fitted, errors


@dataclass(frozen=True)
class CandidateResult:
    """One candidate of a distribution training: its validation beside the baselines, its gate
    decision and, when registered, its record (stage right after registration)."""

    name: str
    calibration: str
    intraday: bool
    intraday_note: str | None
    metrics: DistributionMetrics | None
    decision: DistributionGateDecision
    record: ModelRecord | None = None
    error: str | None = None

    @property
    def model_id(self) -> int | None:
        return None if self.record is None else self.record.model_id

    @property
    def status(self) -> str | None:
        return None if self.record is None else self.record.status

    def summary(self) -> dict[str, Any]:
        """Plain values for a :class:`TrainingSummary`: the figures, the decision, the id."""
        m = self.metrics.to_dict() if self.metrics is not None else {}
        d = self.decision
        return json_safe(
            {
                "calibration": self.calibration,
                "intraday": self.intraday,
                "intraday_note": self.intraday_note,
                "crps": m.get("crps"),
                "crps_garch_ref": m.get("crps_garch_ref"),
                "crps_ewma_t": m.get("crps_ewma_t"),
                "crps_rolling_gaussian": m.get("crps_rolling_gaussian"),
                "crps_skill_pct": m.get("crps_skill_pct"),
                "coverage_80": m.get("coverage_80"),
                "n_validation": m.get("n_validation"),
                "dm_pvalue_holm": d.dm_pvalue_holm,
                "subperiods_won": d.subperiods_won,
                "stability_periods": d.stability_periods,
                "passed": d.passed,
                "promoted": d.promote,
                "model_id": self.model_id,
                "status": self.status,
                "reason": d.reason,
                "error": self.error,
            }
        )


@dataclass(frozen=True)
class DistributionTraining:
    """What :func:`train_distributions` produced for one (coin, horizon).

    ``candidates`` holds each candidate's validation beside ``garch_ref``'s, ``ewma_t``'s and the
    30-day rolling Gaussian's, its gate decision and its record; ``baselines`` the baselines'
    mean CRPS over every validation origin they scored; ``chosen`` the candidate promoted (``None``:
    none passed, the fallback serves); ``production`` the (coin, horizon)'s production
    distribution after the run (``None`` when there is none or nothing was saved).
    """

    crypto_id: str
    horizon: int
    days: int
    source: str
    end: str | None
    intraday: bool
    intraday_note: str | None
    candidates: dict[str, CandidateResult]
    baselines: dict[str, float]
    n_validation: int
    chosen: str | None
    production: ModelRecord | None = None
    seconds: float | None = None

    @property
    def registered(self) -> dict[str, int]:
        """``{candidate: model_id}`` of every candidate registered."""
        return {n: c.model_id for n, c in self.candidates.items() if c.model_id is not None}

    @property
    def reason(self) -> str:
        """One line: what was promoted, or that the fallback serves and the best figures."""
        if self.chosen is not None:
            return f"{self.chosen} promoted: {self.candidates[self.chosen].decision.reason}"
        best = self.best
        if best is None:
            return f"no candidate could be validated: {REFERENCE} (the fallback) serves"
        return f"{best.name}: {best.decision.reason}"

    @property
    def best(self) -> CandidateResult | None:
        """The chosen candidate, else the validated one with the lowest validation CRPS."""
        if self.chosen is not None:
            return self.candidates[self.chosen]
        scored = [c for c in self.candidates.values() if c.metrics is not None]
        scored = [c for c in scored if math.isfinite(c.metrics.crps)]  # type: ignore[union-attr]
        return min(scored, key=lambda c: c.metrics.crps) if scored else None  # type: ignore[union-attr]

    def summary(self, seconds: float | None = None) -> TrainingSummary:
        """Plain values (no model), as the training jobs return them: the chosen (or best)
        candidate's id, stage and figures beside the baselines, and every candidate's under
        ``metrics["candidates"]``."""
        best = self.best
        head = best.summary() if best is not None else {}
        record = None if best is None else best.record
        metrics = {
            "distribution": None if best is None else best.name,
            "chosen": self.chosen,
            **{k: head.get(k) for k in ("crps", "crps_garch_ref", "crps_ewma_t")},
            **{k: head.get(k) for k in ("crps_rolling_gaussian", "crps_skill_pct")},
            "n_validation": self.n_validation,
            "intraday": self.intraday,
            "intraday_note": self.intraday_note,
            "candidates": {n: c.summary() for n, c in self.candidates.items()},
        }
        return TrainingSummary(
            crypto_id=self.crypto_id,
            model_type=DISTRIBUTION,
            horizon=self.horizon,
            days=self.days,
            model_id=None if record is None else record.model_id,
            version=None if record is None else record.version,
            status=None if record is None else record.status,
            artifact_path=None if record is None else str(record.artifact_path),
            metrics=json_safe(metrics),
            gate_passed=self.chosen is not None,
            gate_reason=self.reason,
            seconds=self.seconds if seconds is None else seconds,
        )


def _lineage_extra(data: DistributionData, validation: ValidationWalks) -> dict[str, Any]:
    """What the lineage adds to the daily candles' hash: the window, the 4h candles read and
    the validation origins."""
    window = data.window
    bars = data.intraday
    return {
        "train_start": str(window.index[0]),
        "train_end": str(window.index[-1]),
        "n_train_rows": len(window),
        "intraday_candles": 0 if bars is None else len(bars),
        "intraday_first": None if bars is None else str(bars.index[0]),
        "intraday_last": None if bars is None else str(bars.index[-1]),
        "validation_start": str(validation.origins[0]),
        "validation_end": str(validation.origins[-1]),
    }


def _registration_order(decisions: Mapping[str, DistributionGateDecision]) -> list[str]:
    """Failed candidates first, then those that passed but were not chosen, the chosen last."""
    return sorted(decisions, key=lambda n: (decisions[n].promote, decisions[n].passed))


def _register(
    registry: Any,
    data: DistributionData,
    fitted: Mapping[str, SavableDistribution],
    decisions: Mapping[str, DistributionGateDecision],
    metrics: Mapping[str, DistributionMetrics],
    validation: ValidationWalks,
    settings: Settings,
    run: Mapping[str, Any],
) -> dict[str, ModelRecord]:
    """Register every fitted candidate with its decision, in :func:`_registration_order`, each
    in its own transaction; ``run`` holds the training's ``days``, ``source``, ``end`` and
    ``candidates``. The records, by candidate."""
    cfg, gate = settings.distribution, settings.promotion_gate
    lineage_extra = _lineage_extra(data, validation)
    records: dict[str, ModelRecord] = {}
    for name in _registration_order(decisions):
        if name not in fitted:
            continue
        decision = decisions[name]
        run_config = config_record(
            DISTRIBUTION,
            data.horizon,
            run["days"],
            run["source"],
            run["end"],
            distribution=name,
            calibration=cfg.calibration,
            volatility_params=candidate_params(name, settings),
            intraday=data.reads_intraday(name),
            intraday_note=data.intraday_note_for(name),
            reference=REFERENCE,
            candidates=list(run["candidates"]),
            validation_size=settings.training.validation_size,
            validation_retrain_every=settings.training.validation_retrain_every,
            promotion_gate=gate.model_dump(),
        )
        lineage = compute_lineage(
            data.daily,
            None,
            run_config,
            data_source=run["source"],
            interval="1d",
            extra=lineage_extra,
        )
        model_id = registry.register_with_decision(
            fitted[name].save,
            DISTRIBUTION,
            data.crypto_id,
            data.horizon,
            passed=decision.promote,
            gate_reason=decision.reason,
            # one that passed but was not chosen is no evidence against the production version
            retire_on_fail=gate.retire_on_fail and not decision.passed,
            metrics=json_safe({**metrics[name].to_dict(), "gate": decision.to_dict()}),
            config=json_safe(run_config),
            lineage=json_safe(lineage),
            reason=f"distribution {name} trained by train_distributions",
        )
        records[name] = registry.get(int(model_id))
    return records


def train_distributions(
    crypto_id: str,
    horizon: int = 1,
    days: int | None = None,
    source: str = "snapshot",
    end: Any = None,
    config: Settings | Mapping[str, Any] | str | Path | None = None,
    registry: Any = None,
    save: bool = True,
    *,
    path: str | Path | None = None,
) -> DistributionTraining:
    """Train, validate, gate and (with ``save``) register the distribution versions of one
    (coin, horizon); see the module docstring.

    Args:
        crypto_id: asset id or symbol.
        horizon: days ahead.
        days: the training window in daily candles (default ``training.days``).
        source: ``snapshot``, ``csv`` (with ``path=``), ``binance`` or ``coingecko``.
        end: the window's last candle (inclusive); ``None``: the newest.
        config: ``Settings``, a mapping of overrides, a YAML path or ``None``.
        registry: a ``ModelRegistry`` (default: the configured one); only used with ``save``.
        save: register every fitted candidate with its gate decision (promoting the chosen one);
            ``False`` validates and gates only, writing nothing.
        path: the CSV file for ``source="csv"``.

    Raises:
        DataError: missing, corrupt or too short input (nothing is registered).
        ConfigError: a bad setting or horizon.
    """
    started = time.perf_counter()
    settings = resolve_settings(config)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 366:
        raise ConfigError(f"horizon must be a whole number of days >= 1, got {horizon!r}")
    days = settings.training.days if days is None else days
    data = load_distribution_data(crypto_id, days, horizon, source, end, path)
    cfg = settings.distribution
    names: list[str] = list(cfg.candidates)
    validation = validation_walks(data, names, settings)
    metrics = {
        n: candidate_metrics(validation, n, cfg.calibration, data.reads_intraday(n))
        for n in validation.walks
    }
    decisions = decide_distributions(
        {n: validation.crps(n) for n in validation.walks},
        validation.baselines[REFERENCE].crps.to_numpy(),
        horizon,
        settings.promotion_gate,
        unavailable=validation.errors,
    )
    fitted, fit_errors = final_fits(data, list(validation.walks), settings, validation)
    errors = {**validation.errors, **fit_errors}
    records: dict[str, ModelRecord] = {}
    production = None
    if save:
        reg = registry_or_default(registry)
        run = {"days": days, "source": source, "end": end, "candidates": names}
        records = _register(reg, data, fitted, decisions, metrics, validation, settings, run)
        found = reg.list_models(data.crypto_id, DISTRIBUTION, horizon, status="production")
        production = found[-1] if found else None
    candidates = {
        name: CandidateResult(
            name=name,
            calibration=cfg.calibration,
            intraday=data.reads_intraday(name),
            intraday_note=data.intraday_note_for(name),
            metrics=metrics.get(name),
            decision=decisions[name],
            record=records.get(name),
            error=errors.get(name),
        )
        for name in names
    }
    return DistributionTraining(
        crypto_id=data.crypto_id,
        horizon=horizon,
        days=days,
        source=source,
        end=None if end is None else str(end),
        intraday=data.intraday is not None,
        intraday_note=data.intraday_note,
        candidates=candidates,
        baselines={
            base: _mean(walk.crps.to_numpy()) for base, walk in validation.baselines.items()
        },
        n_validation=len(validation.origins),
        chosen=next((n for n, d in decisions.items() if d.promote and n in fitted), None),
        production=production,
        seconds=time.perf_counter() - started,
    )
