"""Walk-forward predictive distributions: at each origin, a distribution from candles up to it.

:func:`walk_distribution` refits the volatility model on the candles up to each refit origin
(``MarketData.until``), predicts each origin's scale from the candles up to that origin, and
calibrates with scores that were out of sample when made: a holdout inside the first fit window,
then the realised score of every earlier origin whose ``h``-day target is known by the origin.
``calibration`` is one of the choices of :mod:`~cryptoforecast.models.distribution.calibration`
(``none``, ``conformal``, ``conformal_window``, ``aci``, ``blend``); ``aci_gamma`` also adds
per-level ACI to the conformal ones. The point forecast (``location``) is the trainer's, made at
the origin; 0 for the baselines.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import (
    BASELINES,
    QUANTILES,
    DistributionForecaster,
    MarketData,
    PredictiveDistribution,
    StandardShape,
    make_volatility_model,
)
from cryptoforecast.models.distribution.calibration import (
    CONFORMAL_WINDOW,
    Calibration,
    calibrated_shape,
    check_calibration,
    make_calibrator,
)
from cryptoforecast.models.distribution.shapes import check_levels

__all__ = ["DistributionWalk", "distribution_columns", "level_tag", "walk_distribution"]


@dataclass
class DistributionWalk:
    """Per-origin output of :func:`walk_distribution` (all indexed by origin)."""

    name: str
    quantiles: pd.DataFrame
    p_up: pd.Series
    sigma: pd.Series
    crps: pd.Series
    pit: pd.Series
    fit_seconds: float
    predict_seconds: float
    n_refits: int


def walk_distribution(
    market: MarketData,
    origins: Sequence[pd.Timestamp] | pd.Index,
    y: pd.Series,
    name: str,
    horizon: int,
    *,
    retrain_frequency: int = 30,
    refit_origins: Sequence[pd.Timestamp] | None = None,
    location: pd.Series | None = None,
    calibration: Calibration = "conformal",
    aci_gamma: float | None = None,
    quantiles: Any = QUANTILES,
    volatility_params: dict[str, Any] | None = None,
    wait_for_history: bool = False,
    calibration_window: int = CONFORMAL_WINDOW,
) -> DistributionWalk:
    """Predictive distributions at ``origins`` (daily timestamps of ``market``), never reading a
    candle after the origin; ``y`` holds the realised ``h``-day log returns (NaN if unknown).

    Refits at the first origin and then at each of ``refit_origins`` (or every
    ``retrain_frequency`` origins when not given). With ``wait_for_history``, origins before the
    model can first be fitted (``garch_ref`` needs 500 returns) are left empty instead of an
    error, and the first fit happens at the first origin with enough history.
    ``calibration_window`` is the number of recent scores ``"conformal_window"`` keeps.
    """
    h = int(horizon)
    calibrated = check_calibration(calibration) != "none"
    tau = check_levels(quantiles)
    idx = market.daily.index
    origins = pd.DatetimeIndex(origins)
    pos = idx.get_indexer(origins)
    if (pos < 0).any() or not origins.is_monotonic_increasing:
        raise DataError("origins must be increasing timestamps of the daily candles")
    refit_set = None if refit_origins is None else set(pd.DatetimeIndex(refit_origins))
    mu_all = pd.Series(0.0, index=origins) if location is None else location.reindex(origins)
    y_o = y.reindex(origins).to_numpy(dtype="float64")
    mu_o = mu_all.to_numpy(dtype="float64")
    sig_o = np.full(len(origins), np.nan)
    q_o = np.full((len(origins), tau.size), np.nan)
    p_up = np.full(len(origins), np.nan)
    crps = np.full(len(origins), np.nan)
    pit = np.full(len(origins), np.nan)
    calibrator = make_calibrator(calibration, aci_gamma=aci_gamma, window=calibration_window)
    model = None
    sigma_block = pd.Series(dtype="float64")
    last_refit, n_refits, fed = -(10**9), 0, 0
    fit_s = pred_s = 0.0
    for k, t in enumerate(origins):
        refit = model is None or (
            t in refit_set if refit_set is not None else k - last_refit >= retrain_frequency
        )
        if refit:
            tic = time.perf_counter()
            known = market.until(t)
            try:
                if model is None and calibrated:
                    dist = DistributionForecaster(name, h, volatility_params=volatility_params)
                    calibrator = make_calibrator(
                        calibration,
                        dist.holdout_scores(known),
                        aci_gamma=aci_gamma,
                        window=calibration_window,
                    )
                model = make_volatility_model(name, h, **(volatility_params or {})).fit(known)
            except DataError:
                if not (wait_for_history and model is None):
                    raise
                fit_s += time.perf_counter() - tic
                continue  # too little history yet: this origin stays empty
            fit_s += time.perf_counter() - tic
            last_refit, n_refits = k, n_refits + 1
            # scales for the origins until the next refit (each row reads candles up to itself)
            end = k + (retrain_frequency if refit_set is None else len(origins))
            tic = time.perf_counter()
            block_end = origins[min(end, len(origins)) - 1]
            sigma_block = model.predict_scale(market.until(block_end))
            pred_s += time.perf_counter() - tic
        tic = time.perf_counter()
        # realised scores of earlier origins whose target is known at t (purged by h)
        while fed < k and pos[fed] + h <= pos[k]:
            if calibrated and np.isfinite(sig_o[fed]):
                calibrator.add([(y_o[fed] - mu_o[fed]) / sig_o[fed]], tau)
            fed += 1
        sigma = float(sigma_block.get(t, np.nan))
        if not (np.isfinite(sigma) and sigma > 0 and np.isfinite(mu_o[k])):
            continue
        sig_o[k] = sigma
        assert model is not None
        shape: StandardShape = calibrated_shape(calibration, model.shape_, calibrator)
        used = np.array([calibrator.level_adjust.get(round(float(x), 6), x) for x in tau])
        q_o[k] = np.sort(mu_o[k] + sigma * shape.ppf(np.clip(used, 1e-4, 1 - 1e-4)))
        p_up[k] = 1.0 - float(shape.cdf(np.array([-mu_o[k] / sigma]))[0])
        if np.isfinite(y_o[k]):
            z = np.array([(y_o[k] - mu_o[k]) / sigma])
            pit[k] = float(shape.cdf(z)[0])
            if calibrator.level_adjust:  # adaptive levels: score the quantiles actually issued
                one = PredictiveDistribution(
                    pd.Series([mu_o[k]]), pd.Series([sigma]), shape, dict(calibrator.level_adjust)
                )
                crps[k] = float(one.crps([y_o[k]])[0])
            else:
                crps[k] = sigma * float(shape.crps(z)[0])
        pred_s += time.perf_counter() - tic
    return DistributionWalk(
        name=name,
        quantiles=pd.DataFrame(q_o, index=origins, columns=[float(x) for x in tau]),
        p_up=pd.Series(p_up, index=origins, name="p_up"),
        sigma=pd.Series(sig_o, index=origins, name="sigma"),
        crps=pd.Series(crps, index=origins, name="crps"),
        pit=pd.Series(pit, index=origins, name="pit"),
        fit_seconds=fit_s,
        predict_seconds=pred_s,
        n_refits=n_refits,
    )


def level_tag(level: float) -> str:
    """Column suffix of a quantile level: ``0.025 -> "0.025"``, ``0.5 -> "0.5"``."""
    return f"{float(level):g}"


def distribution_columns(
    market: MarketData,
    origins: pd.Index,
    y: pd.Series,
    location: pd.Series,
    close: pd.Series,
    name: str,
    horizon: int,
    refit_origins: Sequence[pd.Timestamp],
    *,
    aci_gamma: float | None = None,
    quantiles: Any = QUANTILES,
    calibration: str = "conformal",
) -> tuple[pd.DataFrame, dict[str, DistributionWalk]]:
    """Backtest columns for the distribution ``name`` (location = the point forecasts) and the
    baselines' CRPS on the same origins (location 0, their own parametric shapes).

    Columns: ``q_<level>`` (log returns), ``price_q_<level>``, ``p_up``, ``sigma``, ``pit``,
    ``crps`` and ``crps_<baseline>``; also ``vol_ref`` (the 30-day rolling scale at the origin,
    the same for every model, which defines the volatility terciles).
    """
    walks = {
        name: walk_distribution(
            market,
            origins,
            y,
            name,
            horizon,
            refit_origins=refit_origins,
            location=location,
            calibration=check_calibration(calibration),
            aci_gamma=aci_gamma,
            quantiles=quantiles,
        )
    }
    for base in BASELINES:
        walks[f"baseline:{base}"] = walk_distribution(
            market,
            origins,
            y,
            base,
            horizon,
            refit_origins=refit_origins,
            calibration="none",
            quantiles=quantiles,
            wait_for_history=True,
        )
    main = walks[name]
    out = pd.DataFrame(index=origins)
    price = close.reindex(origins).to_numpy()[:, None]
    for level in main.quantiles.columns:
        out[f"q_{level_tag(level)}"] = main.quantiles[level]
    for level in main.quantiles.columns:
        out[f"price_q_{level_tag(level)}"] = price[:, 0] * np.exp(main.quantiles[level])
    out["p_up"] = main.p_up
    out["sigma"] = main.sigma
    out["pit"] = main.pit
    out["crps"] = main.crps
    for base in BASELINES:
        out[f"crps_{base}"] = walks[f"baseline:{base}"].crps
    out["vol_ref"] = walks["baseline:rolling_gaussian"].sigma
    return out, walks
