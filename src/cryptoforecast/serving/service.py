"""The running service: the app with its background jobs, built by one factory.

``cryptoforecast serve`` starts uvicorn on :func:`app_from_env` (a factory string, so
``--workers N`` can import it in each worker process); the command passes its options through
the environment (``CRYPTOFORECAST_SERVE_SOURCE``). Each worker gets its own :class:`Predictor`
and forecast cache; the background jobs (candle refresher, scheduled retraining) run in the one
worker that holds the candle cache's jobs lock (see :mod:`cryptoforecast.serving.background`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptoforecast.config import Settings, load_config
from cryptoforecast.data import CandleCache
from cryptoforecast.data.loader import LIVE_SOURCES
from cryptoforecast.serving.app import create_app
from cryptoforecast.serving.background import BackgroundJobs, ScheduledJob
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.refresher import CandleRefresher, RefreshRun

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["SOURCE_ENV", "app_from_env", "build_background", "create_service"]

SOURCE_ENV = "CRYPTOFORECAST_SERVE_SOURCE"
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


def _retrain_job(settings: Settings, predictor: Predictor) -> Callable[[], Any]:
    def retrain() -> Any:
        from cryptoforecast.training.retrain import retrain_stale  # heavy: the training stack

        return retrain_stale(
            older_than=f"{settings.retrain.older_than_days}d",
            registry=predictor.registry,
            config=settings,
        )

    return retrain


def build_background(
    settings: Settings,
    predictor: Predictor,
    *,
    cache: CandleCache | None = None,
    retrain: Callable[[], Any] | None = None,
    **source_options: Any,
) -> BackgroundJobs:
    """The background jobs of a service answering from ``predictor``.

    The refresher runs for a live source when ``serving.refresh.enabled``; stale-model
    retraining runs every ``retrain.schedule_every_hours`` when that is set (``retrain``
    replaces the training pipeline, for tests).
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
            **source_options,
        )
    jobs = []
    every = settings.retrain.schedule_every_hours
    if every is not None:
        fn = retrain or _retrain_job(settings, predictor)
        jobs.append(ScheduledJob("retrain", fn, every * 3600.0))
    return BackgroundJobs(cache.root, refresher, jobs, lock_retry_seconds=cfg.lock_retry_seconds)


def create_service(
    settings: Settings | None = None,
    *,
    retrain: Callable[[], Any] | None = None,
    **app_options: Any,
) -> FastAPI:
    """The app of ``cryptoforecast serve``: :func:`create_app` (``app_options``: ``source``,
    ``registry``, ``clock``...) with its background jobs (``retrain`` replaces the scheduled
    training pipeline, for tests)."""
    settings = settings or load_config()

    def jobs(predictor: Predictor) -> BackgroundJobs:
        return build_background(settings, predictor, retrain=retrain)

    return create_app(settings, background=jobs, **app_options)


def app_from_env() -> FastAPI:
    """uvicorn's factory (``cryptoforecast.serving.service:app_from_env``): read at import in
    each worker, configured by ``$CRYPTOFORECAST_SERVE_SOURCE`` and the usual settings."""
    return create_service(source=os.environ.get(SOURCE_ENV, "snapshot"))
