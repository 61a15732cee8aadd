"""The HTTP API (FastAPI): ``create_app(settings)`` builds a fresh app; there is no module state.

Endpoints::

    GET  /v1/forecast/{crypto_id}?horizon=1..14&model_type=   one forecast
    GET  /v1/forecast?ids=bitcoin,ethereum&horizon=7           a batch (at most MAX_BATCH ids)
    GET  /v1/models                                            the registry listing
    GET  /v1/accuracy                                          live accuracy from the ledger
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

import difflib
import hmac
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptoforecast.exceptions import ConfigError, CryptoForecastError, DataError, RegistryError
from cryptoforecast.redaction import redact
from cryptoforecast.serving.schemas import (
    AccuracyReport,
    BatchForecast,
    Forecast,
    PromoteRequest,
    RetrainRequest,
    fallback_category,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cryptoforecast.config import Settings
    from cryptoforecast.serving.ledger import Ledger
    from cryptoforecast.serving.predictor import Predictor

__all__ = ["ADMIN_TOKEN_ENV", "MAX_BATCH", "create_app"]

ADMIN_TOKEN_ENV = "CRYPTOFORECAST_ADMIN_TOKEN"
MAX_BATCH = 20
_UNSET: Any = object()

RetrainFn = Callable[..., Any]


def _suggest(name: str) -> list[str]:
    from cryptoforecast.data import ASSETS

    by_key = {a.id: a.id for a in ASSETS} | {a.symbol.lower(): a.id for a in ASSETS}
    close = difflib.get_close_matches(name.strip().lower(), list(by_key), n=3, cutoff=0.5)
    return sorted({by_key[c] for c in close})


class _Metrics:
    """Prometheus collectors on their own registry (two apps in one process never clash)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "cryptoforecast_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cryptoforecast_http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "cryptoforecast_cache_hits_total",
            "forecasts served from the cache",
            registry=self.registry,
        )
        self.cache_misses = Counter(
            "cryptoforecast_cache_misses_total", "forecasts computed", registry=self.registry
        )
        self.forecasts = Counter(
            "cryptoforecast_forecasts_total",
            "forecasts served, by source",
            ["source"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "cryptoforecast_fallbacks_total",
            "computed forecasts answered by the technical-analysis fallback",
            ["reason"],
            registry=self.registry,
        )
        self.cache_size = Gauge(
            "cryptoforecast_cache_entries", "live forecast cache entries", registry=self.registry
        )

    def observe_forecast(self, forecast: Forecast) -> None:
        self.forecasts.labels(source=forecast.source).inc()
        if forecast.cached:
            self.cache_hits.inc()
            return
        self.cache_misses.inc()
        if forecast.source != "model":
            self.fallbacks.labels(reason=fallback_category(forecast.fallback_reason)).inc()


class _MetricsMiddleware:
    """Pure ASGI middleware: count requests and time them by route template."""

    def __init__(self, app: Any, metrics: _Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(
                scope.get("method", "GET"), path, str(status["code"])
            ).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - start)


class _Jobs:
    """Background retraining jobs (one worker thread; state held by the app instance)."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrain")
        self.jobs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def submit(self, fn: Callable[[], Any], request: dict[str, Any]) -> dict[str, Any]:
        job_id = uuid.uuid4().hex
        job = {
            "job_id": job_id,
            "status": "queued",
            "request": request,
            "result": None,
            "error": None,
            "submitted_at": datetime.now(UTC).isoformat(),
        }
        with self.lock:
            self.jobs[job_id] = job

        def run() -> None:
            job["status"] = "running"
            try:
                job["result"] = _jsonable(fn())
                job["status"] = "done"
            except Exception as exc:
                job["error"] = redact(f"{type(exc).__name__}: {exc}")
                job["status"] = "failed"
            job["finished_at"] = datetime.now(UTC).isoformat()

        self.executor.submit(run)
        return dict(job)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    for attr in ("to_dict", "model_dump"):
        if hasattr(value, attr):
            return _jsonable(getattr(value, attr)())
    return repr(value)


def _default_retrain() -> RetrainFn | None:
    """The training pipeline as the ``POST /v1/retrain`` job, or None when it is not installed.

    With ``crypto_id``: train that key now (``model_type`` default lightgbm, ``horizon`` default
    1) with ``train_model_for_crypto``. Without: ``retrain_stale`` retrains every tracked key whose
    newest model is older than ``older_than_days`` (default from config). Both go through the
    promotion gate: a new model reaches production only if it beats naive.
    """
    try:
        from cryptoforecast.training.retrain import retrain_stale
        from cryptoforecast.training.train_pipeline import train_model_for_crypto
    except ImportError:
        return None

    def run(
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
        older_than_days: float | None = None,
        registry: Any = None,
    ) -> Any:
        import asyncio

        if crypto_id is not None:
            model = asyncio.run(
                train_model_for_crypto(
                    crypto_id=crypto_id,
                    model_type=model_type or "lightgbm",
                    horizon=horizon or 1,
                    save_model=True,
                    registry=registry,
                )
            )
            return {
                "crypto_id": crypto_id,
                "model_type": model_type or "lightgbm",
                "horizon": horizon or 1,
                "model_id": getattr(model, "model_id", None),
                "version": getattr(model, "version", None),
                "status": getattr(model, "status", None),
                "metrics": getattr(model, "metrics", None),
            }
        older = f"{older_than_days}d" if older_than_days is not None else None
        results = retrain_stale(older_than=older, registry=registry)
        return [
            r
            for r in results
            if (model_type is None or r.get("model_type") == model_type)
            and (horizon is None or r.get("horizon") == horizon)
        ]

    return run


def create_app(
    settings: Settings | None = None,
    *,
    predictor: Predictor | None = None,
    registry: Any = None,
    ledger: Ledger | None = None,
    source: str = "snapshot",
    admin_token: str | None = _UNSET,
    retrain: RetrainFn | None = _UNSET,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """Build the service. Everything (predictor, registry, ledger, metrics, jobs) lives in here.

    Args:
        settings: configuration (``cache.ttl_seconds``); default :func:`load_config`.
        predictor: inject a ready :class:`Predictor` (else one is built from the other args).
        registry: a ``ModelRegistry`` (default: the one ``$CRYPTOFORECAST_REGISTRY_URL`` names).
        ledger: the forecast ledger (default: next to the registry).
        source: candle source of the forecasts.
        admin_token: the admin bearer token (default: ``$CRYPTOFORECAST_ADMIN_TOKEN`` read now).
        retrain: the function ``POST /v1/retrain`` runs in the background (default: the
            training pipeline's ``retrain``).
        clock: current UTC time (tests).
    """
    from fastapi import Body, Depends, FastAPI, Header, HTTPException, Query, Request
    from fastapi.responses import JSONResponse, Response
    from starlette.concurrency import run_in_threadpool

    from cryptoforecast.config import load_config
    from cryptoforecast.serving.predictor import MAX_HORIZON, PredictionUnavailable, Predictor

    settings = settings or load_config()
    token = os.environ.get(ADMIN_TOKEN_ENV) if admin_token is _UNSET else admin_token
    token = token or None
    retrain_fn = _default_retrain() if retrain is _UNSET else retrain
    if predictor is None:
        if registry is None:
            from cryptoforecast.registry import ModelRegistry

            registry = ModelRegistry()
        predictor = Predictor(
            registry=registry,
            source=source,
            cache_ttl=settings.cache.ttl_seconds,
            clock=clock,
            ledger=ledger,
        )
    pred: Predictor = predictor
    metrics = _Metrics()
    jobs = _Jobs()
    started = time.time()

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        jobs.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="cryptoforecast",
        version=_version(),
        description="Cryptocurrency forecasts, labelled with where they came from, scored live.",
        lifespan=lifespan,
    )
    app.state.predictor = pred
    app.state.metrics = metrics
    app.state.jobs = jobs
    app.state.settings = settings
    app.add_middleware(_MetricsMiddleware, metrics=metrics)

    # -- errors ---------------------------------------------------------------------------------
    @app.exception_handler(PredictionUnavailable)
    async def _unavailable(_r: Request, exc: PredictionUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(ConfigError)
    async def _bad_param(_r: Request, exc: ConfigError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(DataError)
    async def _data(_r: Request, exc: DataError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(CryptoForecastError)
    async def _other(_r: Request, exc: CryptoForecastError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    # -- helpers --------------------------------------------------------------------------------
    def resolve(crypto_id: str) -> str:
        from cryptoforecast.data import resolve_asset

        try:
            asset = resolve_asset(crypto_id)
        except DataError as exc:
            raise HTTPException(
                status_code=404,
                detail={
                    "message": str(exc),
                    "crypto_id": crypto_id,
                    "suggestions": _suggest(crypto_id),
                },
            ) from None
        return asset.id

    async def one(crypto_id: str, horizon: int, model_type: str | None) -> Forecast:
        # A cache hit is answered on the event loop (no features, no model: about a millisecond);
        # a miss is computed in the thread pool so it never blocks other requests.
        cid, mtype = resolve(crypto_id), model_type or None
        forecast = pred.predict_cached(cid, horizon=horizon, model_type=mtype)
        if forecast is None:
            forecast = await run_in_threadpool(pred.predict, cid, horizon=horizon, model_type=mtype)
        metrics.observe_forecast(forecast)
        return forecast

    def require_admin(authorization: str | None = Header(None)) -> None:
        if token is None:
            raise HTTPException(
                status_code=403,
                detail="admin endpoints are disabled: no admin token is configured. Set "
                f"{ADMIN_TOKEN_ENV} "
                "on the server and send 'Authorization: Bearer <token>'.",
            )
        scheme, _, given = (authorization or "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
        if not ok:
            raise HTTPException(
                status_code=401,
                detail="missing or wrong admin token; send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    horizon_q = Query(1, ge=1, le=MAX_HORIZON, description=f"candles ahead, 1..{MAX_HORIZON}")
    model_q = Query(
        None, description="lightgbm, xgboost, lstm, ensemble, naive, drift; default: the best"
    )

    # -- forecasts ------------------------------------------------------------------------------
    @app.get("/v1/forecast/{crypto_id}", response_model=Forecast, tags=["forecast"])
    async def forecast_one(
        crypto_id: str, horizon: int = horizon_q, model_type: str | None = model_q
    ) -> Forecast:
        """One forecast, with its source (model or labelled fallback) and 80%/95% intervals."""
        return await one(crypto_id, horizon, model_type)

    @app.get("/v1/forecast", response_model=BatchForecast, tags=["forecast"])
    async def forecast_batch(
        ids: str = Query(..., description=f"comma-separated ids, at most {MAX_BATCH}"),
        horizon: int = horizon_q,
        model_type: str | None = model_q,
    ) -> BatchForecast:
        """Forecasts for several ids at once."""
        names = [n.strip() for n in ids.split(",") if n.strip()]
        if not names:
            raise HTTPException(
                status_code=422, detail="ids is empty; pass e.g. ids=bitcoin,ethereum"
            )
        if len(names) > MAX_BATCH:
            raise HTTPException(
                status_code=422,
                detail=f"too many ids: {len(names)} given, at most {MAX_BATCH} per request",
            )
        resolved = [resolve(n) for n in names]  # 404 before any work when one id is unknown
        return BatchForecast(forecasts=[await one(cid, horizon, model_type) for cid in resolved])

    # -- registry and ledger --------------------------------------------------------------------
    @app.get("/v1/models", tags=["models"])
    def list_models(
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = Query(None, ge=1, le=MAX_HORIZON),
        status: str | None = None,
    ) -> dict[str, Any]:
        """Registered models (newest first as the registry lists them)."""
        from cryptoforecast.registry import STAGES

        cid = resolve(crypto_id) if crypto_id else None
        if status is not None and status not in STAGES:  # a bad filter is the client's error
            raise HTTPException(
                status_code=422, detail=f"status must be one of {', '.join(STAGES)}; got {status!r}"
            )
        pred.check_model_type(model_type or None)
        records = pred.registry.list_models(
            crypto_id=cid, model_type=model_type, horizon=horizon, status=status
        )
        return {"models": [r.to_dict() for r in records]}

    @app.get("/v1/accuracy", response_model=AccuracyReport, tags=["models"])
    def accuracy(
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = Query(None, ge=1, le=MAX_HORIZON),
    ) -> AccuracyReport:
        """Live accuracy of past forecasts whose target candle has closed (the ledger)."""
        cid = resolve(crypto_id) if crypto_id else None
        now = pred.clock()
        rows = pred.ledger.score(now=now, crypto_id=cid, model_type=model_type, horizon=horizon)
        return AccuracyReport(scored_at=now, accuracy=rows)

    # -- admin ----------------------------------------------------------------------------------
    @app.post(
        "/v1/models/{model_id}/promote", tags=["admin"], dependencies=[Depends(require_admin)]
    )
    def promote(model_id: int, body: PromoteRequest | None = Body(None)) -> dict[str, Any]:
        """Make ``model_id`` the production model of its key (the previous one is archived)."""
        reason = body.reason if body else PromoteRequest().reason
        try:
            pred.registry.get(model_id)
        except RegistryError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        try:
            result = pred.registry.promote(model_id, reason=reason)
        except RegistryError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        record = result if hasattr(result, "to_dict") else pred.registry.get(model_id)
        return {"promoted": record.to_dict()}

    @app.post("/v1/retrain", status_code=202, tags=["admin"], dependencies=[Depends(require_admin)])
    def retrain_endpoint(body: RetrainRequest | None = Body(None)) -> dict[str, Any]:
        """Start retraining in the background; poll ``GET /v1/retrain/{job_id}``."""
        if retrain_fn is None:
            raise HTTPException(
                status_code=501,
                detail="retraining is not available in this installation (the training "
                "pipeline, cryptoforecast.training, is missing); install it, or run "
                "'cryptoforecast retrain' where it is installed",
            )
        req = body or RetrainRequest()
        kwargs = {k: v for k, v in req.model_dump().items() if v is not None}
        if "crypto_id" in kwargs:
            kwargs["crypto_id"] = resolve(kwargs["crypto_id"])
        if pred._registry is not None:
            kwargs.setdefault("registry", pred.registry)
        return jobs.submit(
            lambda: retrain_fn(**kwargs), {k: v for k, v in kwargs.items() if k != "registry"}
        )

    @app.get("/v1/retrain/{job_id}", tags=["admin"], dependencies=[Depends(require_admin)])
    def retrain_status(job_id: str) -> dict[str, Any]:
        """Status of a retraining job."""
        job = jobs.jobs.get(job_id)
        if job is None:
            raise HTTPException(status_code=404, detail=f"no retraining job {job_id!r}")
        return dict(job)

    # -- operations -----------------------------------------------------------------------------
    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, Any]:
        """Model ages, cache size, data freshness."""
        now = pred.clock()
        out: dict[str, Any] = {
            "status": "ok",
            "uptime_seconds": round(time.time() - started, 3),
            "cache_entries": len(pred.cache),
            "cache_ttl_seconds": pred.cache_ttl,
            "ledger_errors": pred.ledger_errors,
            "source": pred.source,
        }
        try:
            records = pred.registry.list_models(status="production")
            out["models"] = [
                {
                    "model_id": r.model_id,
                    "crypto_id": r.crypto_id,
                    "model_type": r.model_type,
                    "horizon": r.horizon,
                    "version": r.version,
                    "age_days": round((now - r.created_at).total_seconds() / 86_400, 3),
                    "loaded": r.model_id in pred.loaded_models,
                }
                for r in records
            ]
        except Exception as exc:
            out["status"] = "degraded"
            out["models"] = []
            out["registry_error"] = redact(f"{type(exc).__name__}: {exc}")
        out["data"] = _data_freshness(pred, now)
        return out

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics_endpoint() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        metrics.cache_size.set(len(pred.cache))
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _data_freshness(pred: Any, now: Any) -> dict[str, Any]:
    """Last candle and its age per asset. A health probe never fetches: for a live source it
    reads only the series already in the local cache (``data update`` fills it)."""
    from cryptoforecast.data import CandleCache, load_ohlcv, snapshot_assets
    from cryptoforecast.data.loader import LIVE_SOURCES

    lasts: dict[str, Any] = {}
    if pred.source in LIVE_SOURCES:
        cache = CandleCache()
        for source, crypto_id, interval in cache.entries():
            if source == pred.source and interval == pred.interval:
                frame = cache.read(source, crypto_id, interval)
                if frame is not None and len(frame):
                    lasts[crypto_id] = frame.index[-1]
    else:
        for asset in snapshot_assets():
            try:
                lasts[asset.id] = load_ohlcv(
                    asset.id, days=1, interval=pred.interval, source=pred.source, end=pred.end
                ).index[-1]
            except CryptoForecastError as exc:
                lasts[asset.id] = exc
    data: dict[str, Any] = {}
    for crypto_id, last in lasts.items():
        if isinstance(last, Exception):
            data[crypto_id] = {"error": str(last)}
        else:
            age = (now - last.to_pydatetime()).total_seconds() / 3600
            data[crypto_id] = {"last_candle": last.isoformat(), "age_hours": round(age, 2)}
    return data


def _version() -> str:
    from cryptoforecast import __version__

    return __version__
