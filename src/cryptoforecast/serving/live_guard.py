"""The live guard in the service: a background job that demotes a production model losing to
naive on its realised, scored live forecasts.

Every run reads the ledger's scored forecasts (:meth:`~cryptoforecast.serving.ledger.Ledger.scored`;
back-dated ``as_of`` forecasts are never recorded there, so they never count) and, for each
(coin, horizon) with a production point model, feeds the track of model-served forecasts in
origin order to :class:`~cryptoforecast.evaluation.guard.LossGuard`, the same test as the served
replay's (:mod:`~cryptoforecast.replay.guard`). The track starts after the (coin, horizon)'s last
live-guard demotion and runs on across stretches the fallback served, and a retrained successor
inherits it (with weekly retraining at h = 7 a model id alone never sees a realised error). When
the guard trips, the production model that serves the (coin, horizon) is demoted and a failed
gate decision recorded, in one registry transaction
(:meth:`~cryptoforecast.registry.ModelRegistry.guard_demote`): re-promotion needs ``force``.
The job is built by :func:`guard_job` and runs in the background jobs' leader only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.config import Settings
from cryptoforecast.evaluation.guard import GUARD_REASON, GuardParams, LossGuard, guard_params
from cryptoforecast.serving.predictor import Predictor

__all__ = ["guard_job", "run_guard"]

log = logging.getLogger(__name__)


def run_guard(
    predictor: Predictor,
    params: GuardParams,
    *,
    closes: Any = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One pass of the guard over the ledger (module docstring); returns one dict per demotion
    (``model_id``, ``crypto_id``, ``horizon``, ``reason`` and the evidence)."""
    registry = predictor.registry
    production = registry.list_models(status="production", kind="point")
    keys = sorted({(r.crypto_id, r.horizon) for r in production})
    if not keys:
        return []
    scored = predictor.ledger.scored(closes, now or predictor.clock())
    history = registry.history()
    out: list[dict[str, Any]] = []
    for crypto_id, horizon in keys:
        rows = scored[
            (scored["crypto_id"] == crypto_id)
            & (scored["horizon"] == horizon)
            & (scored["interval"] == predictor.interval)
        ].sort_values(["as_of", "generated_at"], kind="stable")
        rows = rows.drop_duplicates(subset=["as_of"], keep="last")
        start = _track_start(rows, history, crypto_id, horizon)
        track = rows[(rows["source"] == "model") & np.isfinite(rows["actual"].astype(float))]
        if start is not None:
            track = track[track["as_of"] > start]
        guard = LossGuard(horizon, params)
        trip = None
        for r in track.itertuples(index=False):
            trip = guard.update(r.as_of, r.actual - r.predicted_price, r.actual - r.last_close)
            if trip is not None:
                break
        if trip is None:
            continue
        current = registry.get_production_model(crypto_id, None, horizon)
        if current is None:
            continue
        reason = trip.reason()
        registry.guard_demote(current.model_id, reason)
        log.warning("live guard demoted model %s: %s", current.model_id, reason)
        out.append(
            {
                "model_id": current.model_id,
                "crypto_id": crypto_id,
                "horizon": horizon,
                "reason": reason,
                **trip.as_dict(),
            }
        )
    return out


def _track_start(
    rows: pd.DataFrame, history: list[Any], crypto_id: str, horizon: int
) -> pd.Timestamp | None:
    """The origin after which the (coin, horizon)'s current track starts: its last live-guard
    demotion (the replay's track runs on across the fallback's stretches too)."""
    marks: list[pd.Timestamp] = []
    for event in history:
        if (
            event.crypto_id == crypto_id
            and event.horizon == horizon
            and event.event == "demote"
            and event.reason.startswith(GUARD_REASON)
        ):
            at = pd.Timestamp(event.at)
            marks.append(at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC"))
    return max(marks) if marks else None


def guard_job(settings: Settings, predictor: Predictor) -> Callable[[], list[dict[str, Any]]]:
    """The scheduled job: :func:`run_guard` with the ``guard`` settings."""
    params = guard_params(settings.guard)

    def job() -> list[dict[str, Any]]:
        return run_guard(predictor, params)

    return job
