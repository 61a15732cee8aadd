"""The HTTP API (FastAPI): ``create_app(settings)`` builds a fresh app; there is no module state.

Endpoints (one router module each under :mod:`cryptoforecast.serving.routes`)::

    GET  /v1/forecast/{crypto_id}?horizon=1..14&model_type=   one forecast
    GET  /v1/forecast?ids=bitcoin,ethereum&horizon=7           a batch (at most MAX_BATCH ids)
    GET  /v1/models                                            the registry listing (public view)
    GET  /v1/accuracy                                          live accuracy from the ledger
    GET  /v1/admin/models                                      admin, the full registry records
    POST /v1/models/{model_id}/promote                         admin
    POST /v1/retrain                                           admin, runs in the background (202)
    GET  /v1/retrain/{job_id}                                  admin, the job's status
    GET  /healthz                                              model ages, cache, data freshness
    GET  /metrics                                              Prometheus (a per-app registry)
    GET  /docs                                                 OpenAPI

Admin endpoints need ``Authorization: Bearer <token>`` matching ``CRYPTOFORECAST_ADMIN_TOKEN``
(compared in constant time); with no token configured they answer 403.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptoforecast import __version__
from cryptoforecast.compat import preload
from cryptoforecast.config import load_config
from cryptoforecast.exceptions import (
    CacheError,
    ConfigError,
    CryptoForecastError,
    DataError,
    SourceError,
)
from cryptoforecast.models import MODEL_TYPES, load_plugins, model_types
from cryptoforecast.redaction import hide_paths, redact
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving.background import JobsCollector
from cryptoforecast.serving.docs import add_offline_docs
from cryptoforecast.serving.failures import public_reason
from cryptoforecast.serving.jobs import Jobs, RetrainJob
from cryptoforecast.serving.predictor import PredictionUnavailable, Predictor
from cryptoforecast.serving.protocol import ProtocolMiddleware
from cryptoforecast.serving.routes import ADMIN_TOKEN_ENV
from cryptoforecast.serving.telemetry import Metrics, MetricsMiddleware

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cryptoforecast.config import Settings
    from cryptoforecast.serving.background import BackgroundJobs
    from cryptoforecast.serving.ledger import Ledger

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_UNSET: Any = object()

#: exception type -> HTTP status, most specific first (the first match wins)
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (PredictionUnavailable, 503),
    (ConfigError, 422),
    (SourceError, 502),  # a live data source failed: a bad gateway, not "not found"
    (CacheError, 503),  # a cached file is damaged: the server's failure, not "not found"
    (DataError, 404),
    (CryptoForecastError, 503),
)


def create_app(
    settings: Settings | None = None,
    *,
    predictor: Predictor | None = None,
    registry: Any = None,
    ledger: Ledger | None = None,
    source: str = "snapshot",
    admin_token: str | None = _UNSET,
    retrain: RetrainJob | None = None,
    clock: Callable[[], datetime] | None = None,
    background: Callable[[Predictor], BackgroundJobs] | None = None,
) -> FastAPI:
    """Build the service. Everything (predictor, registry, ledger, metrics, jobs) lives in here.

    Args:
        settings: configuration (``cache.ttl_seconds``); default :func:`load_config`.
        predictor: inject a ready :class:`Predictor` (else one is built from the other args).
        registry: a ``ModelRegistry`` (default: the one ``$CRYPTOFORECAST_REGISTRY_URL`` names).
        ledger: the forecast ledger (default: next to the registry).
        source: candle source of the forecasts.
        admin_token: the admin bearer token (default: ``$CRYPTOFORECAST_ADMIN_TOKEN`` read now).
        retrain: the job ``POST /v1/retrain`` runs in the background (``cryptoforecast serve``
            passes the training layer's ``retrain_job``); None: the endpoint answers 501.
        clock: current UTC time (tests).
        background: builds, from the predictor, the jobs started with the app and stopped with
            it (candle refresher, scheduled retraining; see ``serving.service``).
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    # the routers import FastAPI at their top: they load here, with it, not with this module
    from cryptoforecast.serving.body_limit import BodyLimit
    from cryptoforecast.serving.dashboard import dashboard_router
    from cryptoforecast.serving.routes import deps, forecasts, health, models
    from cryptoforecast.serving.routes import ledger as ledger_routes

    # every heavy library a request can reach, imported whole on this thread before any request
    # thread exists (concurrent first imports can leave a library half-initialised)
    preload()
    settings = settings or load_config()
    load_plugins(settings)  # the configured plug-ins, on this thread, before any request thread
    token = os.environ.get(ADMIN_TOKEN_ENV) if admin_token is _UNSET else admin_token
    if predictor is None:
        if registry is None:
            registry = ModelRegistry()
        predictor = Predictor(
            registry=registry,
            source=source,
            cache_ttl=settings.cache.ttl_seconds,
            clock=clock,
            ledger=ledger,
            stale_grace_seconds=settings.serving.stale_grace_seconds,
            settings=settings,  # its plug-ins, loaded above: a request never reads the config
        )
    service = deps.Service(
        predictor=predictor,
        metrics=Metrics(),
        jobs=Jobs(),
        settings=settings,
        admin_token=token or None,
        retrain=retrain,
        started=time.time(),
        background=background(predictor) if background is not None else None,
    )
    if service.background is not None:
        service.metrics.registry.register(JobsCollector(service.background))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if service.background is not None:
            service.background.start()
        try:
            yield
        finally:
            if service.background is not None:
                await run_in_threadpool(service.background.stop)
            service.jobs.shutdown()

    app = FastAPI(
        title="cryptoforecast",
        version=_version(),
        description="Cryptocurrency forecasts, labelled with where they came from, scored live.",
        lifespan=lifespan,
        docs_url=None,  # the offline page below replaces FastAPI's CDN one
        redoc_url=None,
        dependencies=[deps.SINGLE_VALUED_QUERY],
    )
    add_offline_docs(app)
    app.state.service = service
    app.state.predictor = service.predictor
    app.state.metrics = service.metrics
    app.state.jobs = service.jobs
    app.state.settings = settings
    app.state.background = service.background
    app.add_middleware(BodyLimit)  # inside the metrics: a 413 is counted
    app.add_middleware(MetricsMiddleware, metrics=service.metrics)
    app.add_middleware(ProtocolMiddleware)  # outermost: HEAD, security headers, a bare 500

    async def known_error(request: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        if status == 422:  # the documented validation-error shape
            detail: Any = [{"loc": ["query"], "msg": str(exc), "type": "value_error"}]
            return JSONResponse({"detail": detail}, status_code=status)
        if status >= 500:  # the server's failure: the client learns its kind, the log the rest
            log.warning(
                "%s %s answered %d: %s: %s",
                request.method,
                request.url.path,
                status,
                type(exc).__name__,
                redact(exc),
            )
            return JSONResponse({"detail": public_reason(exc)}, status_code=status)
        # the client's error (an unknown id, no candles before as_of): the message, and should
        # one ever name a server path or a secret, without it
        return JSONResponse({"detail": hide_paths(redact(exc))}, status_code=status)

    for kind, _code in _STATUS:
        app.add_exception_handler(kind, known_error)
    app.add_exception_handler(RequestValidationError, deps.validation_error)
    for module in (forecasts, models, ledger_routes, health):
        app.include_router(module.router)
    app.include_router(dashboard_router())  # the read-only HTML pages: /, /accuracy, /models
    _publish_plugin_types(app, [t for t in model_types() if t not in MODEL_TYPES])
    return app


def _publish_plugin_types(app: FastAPI, plugin_types: list[str]) -> None:
    """Make ``app``'s OpenAPI schema name ``plugin_types`` (the plug-ins loaded at its start-up)
    wherever it lists the built-in model types: each enum that holds them all, and each
    description that names them. The request models and queries declare the built-ins
    statically; the schema, built once per app, says what this app accepts."""
    if not plugin_types:
        return
    build = app.openapi
    builtins = ", ".join(MODEL_TYPES)
    every = ", ".join((*MODEL_TYPES, *plugin_types))

    def extend(node: Any) -> None:
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and set(MODEL_TYPES) <= set(enum):
                enum.extend(t for t in plugin_types if t not in enum)
            text = node.get("description")
            if isinstance(text, str) and builtins in text and every not in text:
                node["description"] = text.replace(builtins, every)
            for value in node.values():
                extend(value)
        elif isinstance(node, list):
            for value in node:
                extend(value)

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        schema = build()  # FastAPI's, built on first use and kept on the app
        if first:
            extend(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _version() -> str:
    return __version__
