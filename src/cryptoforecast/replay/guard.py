"""The live guard in the served replay: a sequential pass over the replay's rows.

:func:`guard_served` walks the served rows of one (coin, horizon) in origin order, feeding
:class:`~cryptoforecast.evaluation.guard.LossGuard` each model-served error the moment it is
known (the error of origin ``t`` at origin ``t + h``). When the guard trips at origin ``t``, the
served model is demoted: from ``t`` until the next retraining that promotes a model, the
fallback serves, as the service serves it (the technical-analysis point ``fallback`` with the
``garch_ref`` distribution of the same origin, ``reference_distribution``, located at it).

**The track.** The statistic belongs to the (coin, horizon) track of consecutive model-served
origins, not to one model id: a retrained successor promoted in place of a serving model
inherits it (it is the same pipeline on a week more data; with weekly retraining at h = 7 a
single model id never sees a realised error before its successor arrives, so a per-model-id
guard could never trip there). The track runs on across the stretches the fallback served in
between (the gate promotes a model for at most a few weeks at a time, often with the fallback
between two promotions; a track that started again after each would never know the
``min_errors`` errors the test needs at h = 7). The track, and the statistic, start again after a
trip only; errors of origins before the restart are not counted.

Every row was computed before this pass (each has its ``fallback`` forecast and its
``reference_distribution``), so the sequential and the Dask replays give the same guarded result
by construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.backtest.distribution_walk import level_tag
from cryptoforecast.evaluation.guard import GUARD_REASON, GuardParams, LossGuard
from cryptoforecast.serving import ForecastDistribution

__all__ = ["GUARD_COLUMNS", "GuardedReplay", "guard_served"]

#: the columns :func:`guard_served` adds to the replay's results
GUARD_COLUMNS = ("guard_statistic", "guard_tripped", "guard_demoted")


class GuardedReplay:
    """:func:`guard_served`'s result: the guarded ``results``, the unguarded served columns
    (``unguarded``: ``served``, ``model_id``, ``y_pred`` as the replay served them), the
    ``trips`` (decision origin, model id, evidence) and the ``events`` (one retrains-style row
    per demotion)."""

    def __init__(
        self,
        results: pd.DataFrame,
        unguarded: pd.DataFrame,
        trips: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> None:
        self.results = results
        self.unguarded = unguarded
        self.trips = trips
        self.events = events


def guard_served(
    results: pd.DataFrame,
    horizon: int,
    promotion_dates: set[Any],
    params: GuardParams | None,
    fallback: str,
    rescore: Callable[[ForecastDistribution, float, float], dict[str, float]],
) -> GuardedReplay:
    """The served rows with the guard applied (module docstring).

    ``promotion_dates``: retraining dates at which a model was promoted (a demotion lasts until
    the first origin of one). ``params=None`` leaves the rows as served and adds the guard
    columns (statistic 0, never tripped). ``fallback`` is the ``served`` label of the fallback;
    ``rescore(distribution, close_at_origin, y_logret)`` gives a row's distribution columns.
    """
    res = results.reset_index(drop=True).copy()
    unguarded = res[["origin", "served", "model_id", "y_pred"]].copy()
    n = len(res)
    stat = np.zeros(n)
    tripped = np.zeros(n, dtype=bool)
    demoted = np.zeros(n, dtype=bool)
    trips: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    if params is None or n == 0:
        return _done(res, unguarded, stat, tripped, demoted, trips, events)
    guard = LossGuard(horizon, params)
    served = res["served"].to_numpy(dtype=object).copy()
    y_true = res["y_true"].to_numpy(dtype="float64")
    y_pred = res["y_pred"].to_numpy(dtype="float64").copy()
    naive = res["naive"].to_numpy(dtype="float64")
    counted = np.zeros(n, dtype=bool)  # model-served origins of the current track
    down = False
    for i in range(n):
        date = res.at[i, "retrain_date"]
        starts_period = i == 0 or res.at[i - 1, "retrain_date"] != date
        if starts_period and date in promotion_dates:
            down = False
        j = i - horizon  # the origin whose error becomes known now
        trip = None
        if j >= 0 and counted[j]:
            trip = guard.update(res.at[j, "origin"], y_true[j] - y_pred[j], y_true[j] - naive[j])
        if trip is not None and served[i] != fallback and not down:
            evidence = {**trip.as_dict(), "origin": res.at[i, "origin"]}
            evidence["reason"] = trip.reason()
            trips.append({"model_id": res.at[i, "model_id"], "model": served[i], **evidence})
            events.append(
                {
                    "retrain_date": date,
                    "candidate": served[i],
                    "model_id": res.at[i, "model_id"],
                    "promoted": False,
                    "event": "guard_demote",
                    "origin": res.at[i, "origin"],
                    "reason": evidence["reason"],
                    "error": None,
                }
            )
            tripped[i] = True
            down = True
            counted[:i] = False  # the demoted model's pending errors are not counted
        elif trip is not None:
            counted[:i] = False  # no model serves to demote: the track restarts
        if down and served[i] != fallback:
            _to_fallback(res, i, fallback, rescore)
            served[i] = fallback
            y_pred[i] = res.at[i, "y_pred"]
            demoted[i] = True
        counted[i] = served[i] != fallback
        stat[i] = guard.statistic
    return _done(res, unguarded, stat, tripped, demoted, trips, events)


def _done(
    res: pd.DataFrame,
    unguarded: pd.DataFrame,
    stat: np.ndarray,
    tripped: np.ndarray,
    demoted: np.ndarray,
    trips: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> GuardedReplay:
    res["guard_statistic"] = stat
    res["guard_tripped"] = tripped
    res["guard_demoted"] = demoted
    return GuardedReplay(res, unguarded, trips, events)


def _to_fallback(
    res: pd.DataFrame,
    i: int,
    fallback: str,
    rescore: Callable[[ForecastDistribution, float, float], dict[str, float]],
) -> None:
    """Row ``i`` as the service serves the fallback: the technical point, the ``garch_ref``
    distribution of the origin located at it (none where ``garch_ref`` had too little history),
    its intervals and scores."""
    last = float(res.at[i, "close_at_origin"])
    point = float(res.at[i, "fallback"])
    res.at[i, "served"] = fallback
    res.at[i, "model_id"] = None
    res.at[i, "y_pred"] = point
    res.at[i, "y_pred_logret"] = math.log(point / last)
    ref = res.at[i, "reference_distribution"]
    dist = None
    if isinstance(ref, str):
        base = ForecastDistribution.model_validate_json(ref)
        dist = base.model_copy(update={"location": math.log(point / last), "source": _SOURCE})
    res.at[i, "distribution"] = None if dist is None else dist.model_dump_json()
    scores = {} if dist is None else rescore(dist, last, float(res.at[i, "y_true_logret"]))
    for col in res.columns:
        if col in scores:
            res.at[i, col] = scores[col]
        elif col in _SCORE_PREFIXES or col.startswith(("q_", "price_q_")):
            res.at[i, col] = np.nan
    if dist is not None:
        for tag, (lo, hi) in {"80": (0.1, 0.9), "95": (0.025, 0.975)}.items():
            res.at[i, f"lower_{tag}"] = scores[f"price_q_{level_tag(lo)}"]
            res.at[i, f"upper_{tag}"] = scores[f"price_q_{level_tag(hi)}"]
    else:
        for tag in ("80", "95"):
            res.at[i, f"lower_{tag}"] = res.at[i, f"upper_{tag}"] = np.nan


#: the label of the distribution a guard-demoted origin serves
_SOURCE = f"garch_ref (fallback: {GUARD_REASON})"
_SCORE_PREFIXES = ("p_up", "sigma", "crps", "pit", "hit_80", "hit_95")
