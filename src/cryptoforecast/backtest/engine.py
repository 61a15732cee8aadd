"""Walk-forward backtest: every origin gets a forecast from a model that never saw its future.

::

    backtester = ForecastBacktester(initial_train_size=200, test_size=30, step_size=30,
                                    retrain_frequency=30)
    results = backtester.run_walk_forward_validation(data, trainer_for("lightgbm", horizon=1))
    aggregate_metrics = backtester.calculate_aggregate_metrics()

How it works, in row positions of the feature frame (warm-up rows dropped):

* Row ``i`` has the target ``log(close[i+h] / close[i])``, known from row ``i + h`` on.
* Origins are cut into folds of ``test_size`` rows every ``step_size`` rows
  (:func:`~cryptoforecast.models.splits.walk_forward_splits`).
* ``model_trainer_fn(X_train, y_train)`` is called at an origin ``r`` when no model exists yet or
  ``r`` is ``retrain_frequency`` or more rows after the previous refit, with rows
  ``<= r - purge`` only (``purge`` defaults to ``h``); the model in force then forecasts every
  origin up to the next refit. No fit ever sees a target that is unknown at its origins.
* Each block of origins sharing a model is predicted in one ``predict`` call over the block plus
  the rows before it that sequence models read (their ``lookback``); forecasts are causal per
  row, so this equals predicting each origin from the history up to it (the tests check it).
* Intervals: ``interval_method="split"`` asks the model in force for its static conformal band
  (``predict_interval``, from the residuals it was fitted with). ``"aci"`` issues the band at each
  origin from the point forecast and offsets at an adaptive miscoverage level updated with every
  forecast whose target is known by that origin (:mod:`~cryptoforecast.training.adaptive_intervals`:
  the new model's residuals at a refit, the adaptive state carried over). A model with too few
  out-of-sample residuals gets NaN bands for its origins, a warning and a note in ``refits_``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from cryptoforecast.config import Settings
from cryptoforecast.evaluation.distribution_summary import summarise_distribution
from cryptoforecast.evaluation.summary import summarise_results
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.distribution import MarketData
from cryptoforecast.models.splits import train_rows, walk_forward_splits
from cryptoforecast.training.adaptive_intervals import AdaptiveIntervals
from cryptoforecast.training.backtest_frames import (
    assemble_results,
    check_horizon,
    check_params,
    coverage_tag,
    mean_importance,
    normalised_importance_of,
    predict_block,
    prepare_frames,
)
from cryptoforecast.training.distribution_walk import distribution_columns
from cryptoforecast.training.fitting import ModelTrainer, trainer_for

__all__ = ["ForecastBacktester", "ModelTrainer", "backtester_from", "coverage_tag", "trainer_for"]

#: ``progress(origins_done, origins_total)``
ProgressFn = Callable[[int, int], None]


class ForecastBacktester:
    """Walk-forward validation with purged, periodically refitted models (see module docstring).

    Args:
        initial_train_size: rows the first model is fitted on (and the sliding window's length).
        test_size: origins per fold (the folds of the per-fold table).
        step_size: rows between fold starts (``>= test_size``; larger leaves origins unscored).
        retrain_frequency: refit when this many origins have passed since the last fit.
        horizon: forecast horizon ``h`` in candles.
        purge: gap between the last training row and the origin; ``None`` means ``h`` (minimum).
        window: ``"expanding"`` (all earlier rows) or ``"sliding"`` (last ``initial_train_size``).
        interval_coverage: central interval levels to record (``lower_80``, ``upper_80``, ...).
        test_origins: score only the last N possible origins (the first fit then sees every row
            before them, at least ``initial_train_size``); ``None`` scores all.
        fee_bps: trading fee in basis points for the trading metrics.
        interval_method: ``"split"`` (each model's static conformal band) or ``"aci"`` (adaptive
            conformal: the miscoverage level moves with every error known at the origin).
        aci_gamma: ACI step size (``interval_method="aci"`` only).
        distribution: a volatility model name (``"ewma_t"``, ``"garch_t"``, ``"har_rv"``,
            ``"lightgbm_vol"``, ...) to add a predictive distribution around the trainer's point
            forecasts (:mod:`~cryptoforecast.training.distribution_walk`); ``None`` adds none.
        distribution_aci_gamma: per-level adaptive calibration step for it (``None``: static).
        distribution_calibration: its shape (``"none"``, ``"conformal"``, ``"conformal_window"``,
            ``"aci"`` or ``"blend"``), as the trained model stores it.
    """

    def __init__(
        self,
        initial_train_size: int = 200,
        test_size: int = 30,
        step_size: int = 30,
        retrain_frequency: int = 30,
        horizon: int = 1,
        purge: int | None = None,
        window: Literal["expanding", "sliding"] = "expanding",
        interval_coverage: Sequence[float] = (0.8, 0.95),
        test_origins: int | None = None,
        fee_bps: float = 10.0,
        interval_method: Literal["split", "aci"] = "split",
        aci_gamma: float = 0.01,
        distribution: str | None = None,
        distribution_aci_gamma: float | None = None,
        distribution_calibration: str = "conformal",
    ) -> None:
        self.initial_train_size = initial_train_size
        self.test_size = test_size
        self.step_size = step_size
        self.retrain_frequency = retrain_frequency
        self.horizon = horizon
        self.purge = purge
        self.window = window
        self.interval_coverage = tuple(interval_coverage)
        self.test_origins = test_origins
        self.fee_bps = fee_bps
        self.interval_method = interval_method
        self.aci_gamma = aci_gamma
        self.distribution = distribution
        self.distribution_aci_gamma = distribution_aci_gamma
        self.distribution_calibration = distribution_calibration

    def __repr__(self) -> str:
        keys = (
            "initial_train_size",
            "test_size",
            "step_size",
            "retrain_frequency",
            "horizon",
            "purge",
            "window",
            "interval_coverage",
            "test_origins",
            "fee_bps",
            "interval_method",
            "aci_gamma",
            "distribution",
        )
        return f"ForecastBacktester({', '.join(f'{k}={getattr(self, k)!r}' for k in keys)})"

    # -- inputs ---------------------------------------------------------------------------
    def _check_params(self) -> int:
        """Refuse a bad setting (naming it and the fix); the purge gap in rows."""
        return check_params(self)

    def prepare(
        self,
        data: pd.DataFrame,
        features: pd.DataFrame | None = None,
        market: pd.DataFrame | pd.Series | None = None,
    ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
        """Features ``X`` (complete rows only), target ``y`` and per-row context for ``data``
        (see :func:`~cryptoforecast.training.backtest_frames.prepare_frames`)."""
        return prepare_frames(data, int(self.horizon), features, market)

    # -- the walk ---------------------------------------------------------------------------
    def run_walk_forward_validation(
        self,
        data: pd.DataFrame,
        model_trainer_fn: ModelTrainer,
        features: pd.DataFrame | None = None,
        market: pd.DataFrame | pd.Series | None = None,
        *,
        progress: ProgressFn | None = None,
        intraday: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Run the walk-forward backtest on candles ``data``; returns one row per forecast.

        Args:
            data: candles (``load_ohlcv``); features and the ``h``-step target are built inside.
            model_trainer_fn: ``(X_train, y_train) -> fitted Forecaster``, e.g. :func:`trainer_for`.
            features: a precomputed feature frame on ``data``'s index (skips ``build_features``).
            market: market candles for the cross-asset features (``build_features(data, market)``).
            progress: called as ``progress(done, total)`` after each block of origins.
            intraday: 4h candles of the same coin (``load_ohlcv(..., interval="4h")``) for the
                realised measures of the distribution models (daily ranges without them).

        Returns:
            Columns ``origin, target_time, horizon, fold, close_at_origin, y_true, y_pred, naive,
            lower_<c>, upper_<c>`` (prices), ``y_true_logret, y_pred_logret, next_return,
            model_type, refit_origin, train_start, train_end, n_train``. Also stored as
            ``results_``.
        """
        purge = self._check_params()
        h = int(self.horizon)
        X, y, ctx = self.prepare(data, features, market)
        n = len(X)
        last = n - 1 - h
        start = None if self.test_origins is None else last - int(self.test_origins) + 1
        splits = list(
            walk_forward_splits(
                n,
                horizon=h,
                initial_train_size=int(self.initial_train_size),
                test_size=int(self.test_size),
                step_size=int(self.step_size),
                purge=purge,
                window=self.window,
                start_origin=start,
            )
        )
        if not splits:
            need = int(self.initial_train_size) + purge + h
            raise DataError(
                f"{n} complete feature rows are too few to backtest: need at least {need} "
                f"(initial_train_size {self.initial_train_size} + purge {purge} + horizon {h}); "
                "load more candles or lower initial_train_size"
            )
        total = sum(len(s.test) for s in splits)
        blocks: list[pd.DataFrame] = []
        refits: list[dict[str, Any]] = []
        importances: list[pd.Series] = []
        model: Forecaster | None = None
        aci = (
            AdaptiveIntervals(
                self.interval_coverage, float(self.aci_gamma), y.to_numpy(dtype="float64"), h
            )
            if self.interval_method == "aci"
            else None
        )
        refit_at = -1
        fit_seconds = predict_seconds = 0.0
        done = 0
        self._running = (blocks, y, ctx)
        for fold, split in enumerate(splits):
            origins = split.test
            j = 0
            while j < len(origins):
                t0 = int(origins[j])
                if model is None or t0 - refit_at >= self.retrain_frequency:
                    rows = train_rows(
                        t0, purge=purge, window=self.window, train_size=int(self.initial_train_size)
                    )
                    tic = time.perf_counter()
                    model = model_trainer_fn(X.iloc[rows], y.iloc[rows])
                    fit_seconds += time.perf_counter() - tic
                    check_horizon(model, h)
                    refit_at = t0
                    refits.append(
                        {
                            "refit_origin": X.index[t0],
                            "train_start": X.index[rows[0]],
                            "train_end": X.index[rows[-1]],
                            "n_train": len(rows),
                            "model_type": str(getattr(model, "model_type", type(model).__name__)),
                            "interval_error": None,
                        }
                    )
                    if aci is not None:
                        self._note_interval_error(refits[-1], aci.start_model(model))
                    imp = normalised_importance_of(model)
                    if imp is not None:
                        importances.append(imp)
                # the block runs to the next refit or the end of the fold (origins are consecutive)
                k = min(len(origins), j + refit_at + int(self.retrain_frequency) - t0)
                block = origins[j:k]
                j = k
                tic = time.perf_counter()
                frame, note = self._predict_block(model, X, block, static=aci is None)
                if aci is not None:
                    lower, upper = aci.bands(block, frame["y_pred_logret"].to_numpy())
                    for i, c in enumerate(self.interval_coverage):
                        frame[f"lower_{coverage_tag(c)}_logret"] = lower[:, i]
                        frame[f"upper_{coverage_tag(c)}_logret"] = upper[:, i]
                self._note_interval_error(refits[-1], note)
                predict_seconds += time.perf_counter() - tic
                frame.insert(0, "fold", fold)
                for key in ("refit_origin", "train_start", "train_end", "n_train", "model_type"):
                    frame[key] = refits[-1][key]
                blocks.append(frame)
                done += len(block)
                if progress is not None:
                    progress(done, total)
        raw = pd.concat(blocks)
        results = self._assemble(raw, y, ctx)
        if self.distribution is not None:
            tic = time.perf_counter()
            extra, _ = distribution_columns(
                MarketData(data, intraday, X),
                raw.index,
                y,
                raw["y_pred_logret"],
                ctx["close"],
                self.distribution,
                h,
                [r["refit_origin"] for r in refits],
                aci_gamma=self.distribution_aci_gamma,
                calibration=self.distribution_calibration,
            )
            self.distribution_seconds_ = time.perf_counter() - tic
            results = pd.concat([results, extra.reset_index(drop=True)], axis=1)
            results["distribution"] = self.distribution
        self.results_ = results
        self.refits_ = pd.DataFrame(refits)
        self.n_refits_ = len(refits)
        self.fit_seconds_ = fit_seconds
        self.predict_seconds_ = predict_seconds
        self.feature_importance_ = mean_importance(importances)
        self.model_ = model
        return results

    def results_so_far(self) -> pd.DataFrame:
        """The results of the origins forecast so far in the running walk (a ``progress`` hook
        reads them, e.g. to prune a hopeless tuning trial); the finished walk's ``results_``."""
        if not hasattr(self, "_running"):
            raise DataError("no walk has started; call run_walk_forward_validation first")
        blocks, y, ctx = self._running
        if not blocks:
            return self._assemble(pd.DataFrame(columns=["fold", "y_pred_logret"]), y, ctx)
        return self._assemble(pd.concat(blocks), y, ctx)

    def _note_interval_error(self, refit: dict[str, Any], note: str | None) -> None:
        """Record (once per refit) and warn why a model's origins have NaN interval bands."""
        if note is None or refit["interval_error"] is not None:
            return
        refit["interval_error"] = note
        warnings.warn(
            f"no {self.interval_method} intervals for the {refit['model_type']} model refitted at "
            f"{refit['refit_origin']} on {refit['n_train']} rows: {note}; its origins get NaN "
            "interval bands (skipped by the coverage metrics). Fit on more rows "
            "(initial_train_size) or give the model a validation tail.",
            RuntimeWarning,
            stacklevel=3,
        )

    def _predict_block(
        self, model: Forecaster, X: pd.DataFrame, block: np.ndarray, static: bool = True
    ) -> tuple[pd.DataFrame, str | None]:
        return predict_block(model, X, block, self.interval_coverage, static)

    def _assemble(self, raw: pd.DataFrame, y: pd.Series, ctx: pd.DataFrame) -> pd.DataFrame:
        return assemble_results(
            raw, y, ctx, int(self.horizon), self.interval_coverage, str(self.interval_method)
        )

    # -- metrics ----------------------------------------------------------------------------
    def calculate_aggregate_metrics(self, results: pd.DataFrame | None = None) -> dict[str, Any]:
        """Every metric for the model and for naive on the same origins (``summarise_results``)."""
        if results is None:
            if not hasattr(self, "results_"):
                raise DataError(
                    "no backtest results yet; call run_walk_forward_validation(data, trainer) first"
                )
            results = self.results_
        out = summarise_results(
            results,
            horizon=int(self.horizon),
            coverages=self.interval_coverage,
            fee_bps=float(self.fee_bps),
        )
        out["interval_method"] = (
            str(results["interval_method"].iloc[0])
            if "interval_method" in results.columns
            else str(self.interval_method)
        )
        if out["interval_method"] == "aci":
            out["aci_gamma"] = float(self.aci_gamma)
        if "crps" in results.columns:
            name = str(results["distribution"].iloc[0]) if "distribution" in results else None
            out["distribution"] = summarise_distribution(results, int(self.horizon), name)
        lowers = [f"lower_{coverage_tag(c)}" for c in self.interval_coverage]
        present = [c for c in lowers if c in results.columns]
        out["n_without_intervals"] = (
            int(results[present].isna().any(axis=1).sum()) if present else len(results)
        )
        if results is getattr(self, "results_", None):
            out["n_refits"] = int(self.n_refits_)
            out["fit_seconds"] = float(self.fit_seconds_)
            out["predict_seconds"] = float(self.predict_seconds_)
        return out


def backtester_from(settings: Settings, horizon: int, **overrides: Any) -> ForecastBacktester:
    """A :class:`ForecastBacktester` at ``horizon`` with the config's ``backtest`` section (fold
    sizes, refit frequency, window, interval coverages); ``overrides`` replace any of those or set
    any other constructor argument."""
    cfg = settings.backtest
    params: dict[str, Any] = {
        "initial_train_size": cfg.initial_train_size,
        "test_size": cfg.test_size,
        "step_size": cfg.step_size,
        "retrain_frequency": cfg.retrain_frequency,
        "window": cfg.window,
        "interval_coverage": tuple(cfg.interval_coverage),
    }
    return ForecastBacktester(horizon=horizon, **{**params, **overrides})
