"""``GET /v1/accuracy``: live accuracy of past forecasts from the ledger."""

from __future__ import annotations

from fastapi import APIRouter

from cryptoforecast.serving.routes.deps import (
    CRYPTO_ID_FILTER,
    HORIZON_FILTER,
    MODEL_TYPE_QUERY,
    SERVICE,
    Service,
    resolve,
)
from cryptoforecast.serving.routes.responses import documented_errors
from cryptoforecast.serving.schemas import AccuracyReport

__all__ = ["router"]

router = APIRouter(tags=["models"])


@router.get(
    "/v1/accuracy",
    response_model=AccuracyReport,
    responses=documented_errors("GET /v1/accuracy"),
)
def accuracy(
    crypto_id: str | None = CRYPTO_ID_FILTER,
    model_type: str | None = MODEL_TYPE_QUERY,
    horizon: int | None = HORIZON_FILTER,
    svc: Service = SERVICE,
) -> AccuracyReport:
    """Live accuracy of past forecasts whose target candle has closed (the ledger)."""
    pred = svc.predictor
    cid = resolve(crypto_id) if crypto_id else None
    now = pred.clock()
    mtype = pred.check_model_type(model_type or None)
    rows = pred.ledger.score(now=now, crypto_id=cid, model_type=mtype, horizon=horizon)
    return AccuracyReport(scored_at=now, accuracy=rows)
