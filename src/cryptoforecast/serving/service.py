"""The running service: the app with its background jobs.

:func:`create_service` is :func:`~cryptoforecast.serving.app.create_app` with the background jobs
(candle refresher, scheduled retraining) of :func:`build_background`. Each uvicorn worker gets
its own :class:`Predictor` and forecast cache; the background jobs run in the one worker that
holds the candle cache's jobs lock (see :mod:`cryptoforecast.serving.background`).

The serving layer does not import training: the scheduled retraining is a job handed in
(``schedule``), as the ``POST /v1/retrain`` job is (``retrain``). ``cryptoforecast serve`` wires
the training pipeline's jobs in (:mod:`cryptoforecast.cli.app_factory`, uvicorn's factory).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptoforecast.config import Settings, load_config
from cryptoforecast.data import CandleCache
from cryptoforecast.data.loader import LIVE_SOURCES
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.serving.app import create_app
from cryptoforecast.serving.background import BackgroundJobs, ScheduledJob
from cryptoforecast.serving.live_guard import guard_job
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.refresher import CandleRefresher, RefreshRun

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["RetrainSchedule", "build_background", "create_service"]

#: builds a service's scheduled retraining job from its settings and predictor (the job retrains
#: every stale model of ``predictor.registry``; the training layer provides it)
RetrainSchedule = Callable[[Settings, Predictor], Callable[[], Any]]

log = logging.getLogger(__name__)


def _production_assets(predictor: Predictor) -> Callable[[], list[str]]:
    def ids() -> list[str]:
        records = predictor.registry.list_models(status="production")
        return sorted({r.crypto_id for r in records})

    return ids


def _score_ledger(predictor: Predictor) -> Callable[[RefreshRun], None]:
    """After a refresh: score the ledger on the new candles (forecasts whose target closed)."""

    def score(run: RefreshRun) -> None:
        rows = predictor.ledger.score(now=predictor.clock())
        run.notes["ledger"] = {
            "keys": len(rows),
            "scored": sum(r.n_scored for r in rows),
            "pending": sum(r.n_pending for r in rows),
        }
        log.info("ledger scored after the refresh: %s", run.notes["ledger"])

    return score


def _warm_state(predictor: Predictor, horizons: list[int]) -> Callable[[str], Any]:
    """On a new candle: compute what the forecasts of ``horizons`` read from it (the serving
    state), so the first request after the candle fits nothing."""

    def warm(crypto_id: str) -> Any:
        return predictor.warm(crypto_id, horizons)

    return warm


def build_background(
    settings: Settings,
    predictor: Predictor,
    *,
    cache: CandleCache | None = None,
    retrain: Callable[[], Any] | None = None,
    **source_options: Any,
) -> BackgroundJobs:
    """The background jobs of a service answering from ``predictor``.

    The refresher runs for a live source when ``serving.refresh.enabled``, and warms the
    serving state of each coin that gets a new candle for the configured ``horizons``;
    ``retrain`` (the
    stale-model retraining) runs every ``retrain.schedule_every_hours`` when that is set. A
    schedule without a ``retrain`` job is a :class:`ConfigError` (nothing would retrain). The
    live guard (:mod:`~cryptoforecast.serving.live_guard`) runs every ``guard.every_minutes``
    when ``guard.enabled`` and the refresher runs (it scores the ledger the guard reads).
    """
    cache = cache or CandleCache()
    cfg = settings.serving.refresh
    refresher = None
    if predictor.source in LIVE_SOURCES and cfg.enabled:
        refresher = CandleRefresher(
            predictor.source,
            predictor.interval,
            tracked=_production_assets(predictor),
            cache=cache,
            delay_seconds=cfg.delay_seconds,
            jitter_seconds=cfg.jitter_seconds,
            retry_seconds=cfg.retry_seconds,
            clock=predictor.clock,
            after_run=_score_ledger(predictor),
            warm=_warm_state(predictor, settings.horizons),
            **source_options,
        )
    jobs = []
    every = settings.retrain.schedule_every_hours
    if every is not None:
        if retrain is None:
            raise ConfigError(
                f"retrain.schedule_every_hours is {every}, but this service was given no "
                "retraining job; start it with 'cryptoforecast serve' (which schedules the "
                "training pipeline), pass schedule= to create_service, or unset the schedule"
            )
        jobs.append(ScheduledJob("retrain", retrain, every * 3600.0))
    if refresher is not None and settings.guard.enabled:
        jobs.append(
            ScheduledJob("guard", guard_job(settings, predictor), settings.guard.every_minutes * 60)
        )
    return BackgroundJobs(cache.root, refresher, jobs, lock_retry_seconds=cfg.lock_retry_seconds)


def create_service(
    settings: Settings | None = None,
    *,
    schedule: RetrainSchedule | None = None,
    **app_options: Any,
) -> FastAPI:
    """The app of ``cryptoforecast serve``: :func:`create_app` (``app_options``: ``source``,
    ``registry``, ``clock``, ``retrain``...) with its background jobs; ``schedule`` builds the
    scheduled retraining job (needed when ``retrain.schedule_every_hours`` is set)."""
    settings = settings or load_config()

    def jobs(predictor: Predictor) -> BackgroundJobs:
        retrain = schedule(settings, predictor) if schedule is not None else None
        return build_background(settings, predictor, retrain=retrain)

    return create_app(settings, background=jobs, **app_options)
