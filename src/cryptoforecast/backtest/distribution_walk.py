"""Walk-forward predictive distributions: at each origin, a distribution from candles up to it.

:func:`walk_distribution` refits the volatility model on the candles up to each refit origin
(``MarketData.until``), predicts each origin's scale from the candles up to that origin, and
calibrates with scores that were out of sample when made: a holdout inside the first fit window,
then the realised score of every earlier origin whose ``h``-day target is known by the origin.
``calibration`` is one of the choices of :mod:`~cryptoforecast.models.distribution.calibration`
(``none``, ``conformal``, ``conformal_window``, ``aci``, ``blend``); ``aci_gamma`` also adds
per-level ACI to the conformal ones. The point forecast (``location``) is the trainer's, made at
the origin; 0 for the baselines.

:func:`walk_combination` scores the combination candidate on member walks already made: at each
origin the weighted quantile average of the members, its weights from the members' CRPS at
earlier origins whose targets are known by then
(:func:`~cryptoforecast.models.distribution.combination_weights`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.evaluation import crps_from_quantiles
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import (
    BASELINES,
    COMBINATION_LEVELS,
    COMBINATION_MIN_SCORED,
    COMBINATION_SHARPNESS,
    COMBINATION_WINDOW,
    QUANTILES,
    DistributionForecaster,
    MarketData,
    PredictiveDistribution,
    StandardShape,
    combination_weights,
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

__all__ = [
    "MIN_COMBINATION_LEVELS",
    "DistributionWalk",
    "distribution_columns",
    "level_tag",
    "walk_combination",
    "walk_distribution",
]

#: fewest quantile levels member walks must share for a combination to be scored on them (its
#: CRPS is integrated over them; walk members at ``COMBINATION_LEVELS``)
MIN_COMBINATION_LEVELS = 99


@dataclass
class DistributionWalk:
    """Per-origin output of :func:`walk_distribution` or :func:`walk_combination` (all indexed
    by origin); ``weights`` (a column per member) is a combination's only, ``None`` otherwise."""

    name: str
    quantiles: pd.DataFrame
    p_up: pd.Series
    sigma: pd.Series
    crps: pd.Series
    pit: pd.Series
    fit_seconds: float
    predict_seconds: float
    n_refits: int
    weights: pd.DataFrame | None = None


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
    if make_volatility_model(name, h, **(volatility_params or {})).reads_intraday:
        # the per-day realised measures, once for the walk: every refit and scale block reads
        # its prefix (``MarketData.until`` hands it on)
        market.realized  # noqa: B018
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


def walk_combination(
    walks: Mapping[str, DistributionWalk],
    y: pd.Series,
    horizon: int,
    *,
    name: str = "combination",
    quantiles: Any = QUANTILES,
    min_scored: int = COMBINATION_MIN_SCORED,
    window: int | None = COMBINATION_WINDOW,
    sharpness: float = COMBINATION_SHARPNESS,
) -> DistributionWalk:
    """The combination of member ``walks`` (name -> walk of the same origins and quantile levels)
    walked over their common origins, scored on ``y`` (the realised ``h``-day log returns).

    At each origin where every member has a distribution, the weights are
    ``combination_weights`` of the members' CRPS at the earlier common origins (at least
    ``horizon`` origins before it, so the origins must be consecutive daily candles, or a subset
    of them in order), and the combination's quantiles are ``sum_i w_i q_i(tau)`` at every level
    the members were walked at: walk them at ``COMBINATION_LEVELS`` (at least
    :data:`MIN_COMBINATION_LEVELS` levels are required), since these levels are all the
    combination is known by.

    The fields: ``quantiles`` at ``quantiles`` (each must be one of the members' levels);
    ``crps`` of the quantile average over all the members' levels
    (:func:`~cryptoforecast.evaluation.crps_from_quantiles`, within 0.05% of the exact CRPS and
    above it at ``COMBINATION_LEVELS``: the approximation counts against the combination);
    ``pit`` and ``p_up`` by linear interpolation of its CDF between those levels (beyond the
    outermost level, half-way to 0 or 1); ``sigma`` the weighted average of the members'
    scales (what the served combination reports as its scale); ``fit_seconds`` and ``n_refits``
    the members' totals (the combination refits them all); ``predict_seconds`` the members'
    total plus the combination's own; ``weights`` the weights used at each origin. Origins
    outside the common ones are NaN, as in a member's walk.
    """
    if not walks:
        raise DataError("walk_combination needs at least one member walk, got none")
    names = list(walks)
    grid = np.asarray(next(iter(walks.values())).quantiles.columns, dtype="float64")
    for member, walk in walks.items():
        levels = np.asarray(walk.quantiles.columns, dtype="float64")
        if levels.shape != grid.shape or not np.allclose(levels, grid, rtol=0, atol=1e-9):
            raise DataError(
                f"member walks must share their quantile levels; {member!r} has "
                f"{levels.size} levels, {names[0]!r} {grid.size}: walk every member at "
                "COMBINATION_LEVELS"
            )
    if grid.size < MIN_COMBINATION_LEVELS:
        raise DataError(
            f"a combination is scored on its members' quantile levels, and {grid.size} levels "
            f"are too few for its CRPS (need {MIN_COMBINATION_LEVELS}); walk the members at "
            f"COMBINATION_LEVELS ({len(COMBINATION_LEVELS)} levels)"
        )
    tau = check_levels(quantiles)
    pick = [int(np.argmin(np.abs(grid - t))) for t in tau]
    missing = [float(t) for t, k in zip(tau, pick, strict=True) if abs(grid[k] - t) > 1e-9]
    if missing:
        raise DataError(
            f"quantile levels {missing} are not among the members' levels; choose levels of "
            "COMBINATION_LEVELS (multiples of 0.005)"
        )
    tic = time.perf_counter()
    index = walks[names[0]].quantiles.index
    for walk in walks.values():
        index = index.union(walk.quantiles.index)
    q = {m: walks[m].quantiles.reindex(index).to_numpy(dtype="float64") for m in names}
    sig = {m: walks[m].sigma.reindex(index).to_numpy(dtype="float64") for m in names}
    common = np.logical_and.reduce(
        [np.isfinite(q[m]).all(axis=1) & np.isfinite(sig[m]) for m in names]
    )
    crps_members = pd.DataFrame(
        {m: walks[m].crps.reindex(index).to_numpy(dtype="float64") for m in names}, index=index
    ).loc[common]
    w = combination_weights(
        crps_members, horizon, min_scored=min_scored, window=window, sharpness=sharpness
    ).to_numpy()
    combined = np.sort(sum(w[:, [i]] * q[m][common] for i, m in enumerate(names)), axis=1)
    sigma = np.full(len(index), np.nan)
    sigma[common] = sum(w[:, i] * sig[m][common] for i, m in enumerate(names))
    y_o = y.reindex(index).to_numpy(dtype="float64")[common]
    scored = np.isfinite(y_o)
    crps = np.full(len(index), np.nan)
    crps[np.flatnonzero(common)[scored]] = crps_from_quantiles(y_o[scored], combined[scored], grid)
    below, above = grid[0] / 2, (1 + grid[-1]) / 2
    cdf_0 = np.array([np.interp(0.0, row, grid, left=below, right=above) for row in combined])
    pit_o = np.array(
        [
            np.interp(v, row, grid, left=below, right=above) if np.isfinite(v) else np.nan
            for v, row in zip(y_o, combined, strict=True)
        ]
    )
    quantile_values = np.full((len(index), tau.size), np.nan)
    quantile_values[common] = combined[:, pick]
    p_up, pit = np.full(len(index), np.nan), np.full(len(index), np.nan)
    p_up[common], pit[common] = 1.0 - cdf_0, pit_o
    weights = pd.DataFrame(np.nan, index=index, columns=names)
    weights.loc[common] = w
    own = time.perf_counter() - tic
    return DistributionWalk(
        name=name,
        quantiles=pd.DataFrame(quantile_values, index=index, columns=[float(x) for x in tau]),
        p_up=pd.Series(p_up, index=index, name="p_up"),
        sigma=pd.Series(sigma, index=index, name="sigma"),
        crps=pd.Series(crps, index=index, name="crps"),
        pit=pd.Series(pit, index=index, name="pit"),
        fit_seconds=sum(walk.fit_seconds for walk in walks.values()),
        predict_seconds=own + sum(walk.predict_seconds for walk in walks.values()),
        n_refits=sum(walk.n_refits for walk in walks.values()),
        weights=weights,
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
