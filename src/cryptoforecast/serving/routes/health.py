"""``GET /healthz`` (model ages, cache, data freshness) and ``GET /metrics`` (Prometheus).

Both are public, so they say *what* is wrong (a registry that does not answer, a cached series
that cannot be read) and leave *where* (paths, URLs, driver messages) to the service log.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.data import CandleCache, load_ohlcv
from cryptoforecast.data.loader import LIVE_SOURCES
from cryptoforecast.exceptions import CryptoForecastError
from cryptoforecast.redaction import redact
from cryptoforecast.serving.freshness import staleness
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.routes.deps import SERVICE, Service
from cryptoforecast.serving.routes.responses import documented_errors

__all__ = ["data_freshness", "router"]

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


@router.get("/healthz", responses=documented_errors("GET /healthz"))
def healthz(svc: Service = SERVICE) -> dict[str, Any]:
    """Model ages, cache size, data freshness; ``status`` is ``degraded`` when a part fails, a
    production model cannot load (``model_errors``: which, and the kind of failure), a
    live series is stale (the embedded snapshot is a fixed history: stale, but as configured) or
    the candle refresher's last run could not reach its live source."""
    pred = svc.predictor
    now = pred.clock()
    out: dict[str, Any] = {
        "status": "ok",
        "uptime_seconds": round(time.time() - svc.started, 3),
        "cache_entries": len(pred.cache),
        "cache_ttl_seconds": pred.cache_ttl,
        "ledger_errors": pred.ledger_errors,
        "source": pred.source,
    }
    try:
        records = pred.registry.list_models(status="production")
        failures = {r.model_id: pred.load_failure(r) for r in records}
        out["models"] = [
            {
                "model_id": r.model_id,
                "crypto_id": r.crypto_id,
                "model_type": r.model_type,
                "kind": r.kind,
                "horizon": r.horizon,
                "version": r.version,
                "age_days": round((now - r.created_at).total_seconds() / 86_400, 3),
                "loaded": failures[r.model_id] is None,
                **({"load_error": failures[r.model_id]} if failures[r.model_id] else {}),
            }
            for r in records
        ]
        errors = [
            {
                "model_id": r.model_id,
                "crypto_id": r.crypto_id,
                "horizon": r.horizon,
                "model_type": r.model_type,
                "kind": r.kind,
                "reason": failures[r.model_id],
            }
            for r in records
            if failures[r.model_id] is not None
        ]
        if errors:  # every answer for these keys is a fallback
            out["status"] = "degraded"
            out["model_errors"] = errors
    except Exception as exc:
        log.warning("health check: the registry failed: %s", redact(exc))
        out["status"] = "degraded"
        out["models"] = []
        out["registry_error"] = (
            f"the model registry is unavailable ({type(exc).__name__}); see the service log"
        )
    try:
        pred.ledger.check()
    except Exception as exc:
        log.warning("health check: the ledger failed: %s", redact(exc))
        out["status"] = "degraded"
        out["ledger_error"] = f"ledger unavailable ({type(exc).__name__}); see the service log"
    out["data"] = data_freshness(pred, now)
    if any("error" in entry for entry in out["data"].values()):
        out["status"] = "degraded"
    if pred.source in LIVE_SOURCES and any(e.get("stale") for e in out["data"].values()):
        out["status"] = "degraded"  # the refresher is not keeping a live series fresh
    if svc.background is not None:
        out["background"] = svc.background.status()
        refresher = (out["background"].get("leader") or {}).get("refresher") or {}
        if (refresher.get("last_run") or {}).get("errors"):
            out["status"] = "degraded"  # the live source failed on the refresher's last run
        if out["background"]["problems"]:
            out["status"] = "degraded"  # the jobs cannot run, a job died, or their state is unknown
    return out


@router.get("/metrics", include_in_schema=False)
def metrics(svc: Service = SERVICE) -> Response:
    """The app's Prometheus metrics."""
    from prometheus_client import CONTENT_TYPE_LATEST

    svc.metrics.cache_size.set(len(svc.predictor.cache))
    return Response(svc.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _last_candle(pred: Predictor, cache: CandleCache | None, crypto_id: str) -> Any:
    if cache is not None:
        frame = cache.read(pred.source, crypto_id, pred.interval)
        return frame.index[-1] if frame is not None and len(frame) else None
    frame = load_ohlcv(
        crypto_id, days=1, interval=pred.interval, source=pred.source, as_of=pred.end
    )
    return frame.index[-1]


def data_freshness(pred: Predictor, now: datetime) -> dict[str, Any]:
    """Last candle, its age and staleness per asset, or ``{"error": ...}`` for a series that
    cannot be read.

    A health probe never fetches: for a live source it reads only the series already in the
    local cache (``data update`` fills it); a damaged cached file is reported, never raised.
    """
    cache: CandleCache | None = None
    if pred.source in LIVE_SOURCES or pred.source == "csv":  # csv: the imported coins
        cache = CandleCache()
        ids = [c for s, c, i in cache.entries() if s == pred.source and i == pred.interval]
    else:
        ids = [asset.id for asset in snapshot_assets()]
    data: dict[str, Any] = {}
    for crypto_id in ids:
        try:
            last = _last_candle(pred, cache, crypto_id)
        except (CryptoForecastError, OSError, ValueError) as exc:
            log.warning("health check: %s candles: %s", crypto_id, redact(exc))
            data[crypto_id] = {
                "error": f"the {pred.source} {pred.interval} candles are unreadable "
                f"({type(exc).__name__}); see the service log"
            }
            continue
        if last is None:
            continue
        fresh = staleness(last, pred.interval, now, pred.stale_grace_seconds, pred.source)
        data[crypto_id] = {
            "last_candle": last.isoformat(),
            "age_hours": fresh.age_hours,
            "stale": fresh.stale,
            "stale_reason": fresh.reason,
        }
    return data
