"""The served app as ``cryptoforecast serve`` runs it: the service with the training jobs wired in.

uvicorn imports :func:`app_from_env` (a factory string, so ``--workers N`` builds one app per
worker process); the command passes its options through the environment
(``CRYPTOFORECAST_SERVE_SOURCE``). This is where serving meets training: ``POST /v1/retrain``
runs :func:`~cryptoforecast.training.jobs.retrain_job`, and the scheduled retraining runs
:func:`~cryptoforecast.training.jobs.retrain_stale` on the service's registry.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptoforecast.config import Settings
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.service import create_service
from cryptoforecast.training.jobs import retrain_job, retrain_stale

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["SOURCE_ENV", "app_from_env", "scheduled_retraining"]

SOURCE_ENV = "CRYPTOFORECAST_SERVE_SOURCE"


def scheduled_retraining(settings: Settings, predictor: Predictor) -> Callable[[], Any]:
    """The scheduled job: retrain every model of the service's registry older than
    ``retrain.older_than_days``, through the promotion gate."""

    def retrain() -> Any:
        return retrain_stale(
            older_than=f"{settings.retrain.older_than_days}d",
            registry=predictor.registry,
            config=settings,
        )

    return retrain


def app_from_env() -> FastAPI:
    """uvicorn's factory (``cryptoforecast.cli.app_factory:app_from_env``), run in each worker,
    configured by ``$CRYPTOFORECAST_SERVE_SOURCE`` and the usual settings."""
    return create_service(
        source=os.environ.get(SOURCE_ENV, "snapshot"),
        schedule=scheduled_retraining,
        retrain=retrain_job,
    )
