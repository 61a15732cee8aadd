"""``GET /v1/forecast/{crypto_id}`` and ``GET /v1/forecast?ids=...``."""

from __future__ import annotations

from fastapi import APIRouter, Query

from cryptoforecast.serving.routes import MAX_BATCH
from cryptoforecast.serving.routes.deps import (
    AS_OF_QUERY,
    CRYPTO_ID_PATH,
    HORIZON_QUERY,
    MAX_ID_LENGTH,
    MODEL_TYPE_QUERY,
    SERVICE,
    Service,
    forecast,
    invalid,
    known_query,
    resolve,
)
from cryptoforecast.serving.routes.responses import documented_errors
from cryptoforecast.serving.schemas import BatchForecast, Forecast

__all__ = ["IDS_PATTERN", "router"]

router = APIRouter(tags=["forecast"])

#: what ``ids`` accepts: 1..MAX_BATCH ids between commas; a part of spaces only is skipped
_ID = "[ ]*[^, ][^,]*"
IDS_PATTERN = f"^(?:[ ]*,)*{_ID}(?:(?:,[ ]*)*,{_ID}){{0,{MAX_BATCH - 1}}}(?:,[ ]*)*$"


@router.get(
    "/v1/forecast/{crypto_id}",
    response_model=Forecast,
    dependencies=[known_query("horizon", "model_type", "as_of")],
    responses=documented_errors("GET /v1/forecast/{crypto_id}"),
)
async def forecast_one(
    crypto_id: str = CRYPTO_ID_PATH,
    horizon: int = HORIZON_QUERY,
    model_type: str | None = MODEL_TYPE_QUERY,
    as_of: str | None = AS_OF_QUERY,
    svc: Service = SERVICE,
) -> Forecast:
    """One forecast, with its source (model or labelled fallback) and 80%/95% intervals."""
    return await forecast(svc, crypto_id, horizon, model_type, as_of)


@router.get(
    "/v1/forecast",
    response_model=BatchForecast,
    dependencies=[known_query("ids", "horizon", "model_type", "as_of")],
    responses=documented_errors("GET /v1/forecast"),
)
async def forecast_batch(
    ids: str = Query(
        ...,
        max_length=MAX_BATCH * (MAX_ID_LENGTH + 1),
        description=f"comma-separated ids, at most {MAX_BATCH}, in one ids parameter "
        "(ids=bitcoin,ethereum; a repeated ids is a 422)",
        json_schema_extra={"pattern": IDS_PATTERN},
        examples=["bitcoin,ethereum"],
    ),
    horizon: int = HORIZON_QUERY,
    model_type: str | None = MODEL_TYPE_QUERY,
    as_of: str | None = AS_OF_QUERY,
    svc: Service = SERVICE,
) -> BatchForecast:
    """Forecasts for several ids at once."""
    names = [n.strip(" ") for n in ids.split(",") if n.strip(" ")]  # as IDS_PATTERN reads them
    if not names:
        raise invalid("query", "ids", ids, "ids is empty; pass e.g. ids=bitcoin,ethereum")
    if len(names) > MAX_BATCH:
        raise invalid(
            "query",
            "ids",
            ids,
            f"too many ids: {len(names)} given, at most {MAX_BATCH} per request",
        )
    resolved = [resolve(n) for n in names]  # 404 before any work when one id is unknown
    return BatchForecast(
        forecasts=[await forecast(svc, c, horizon, model_type, as_of) for c in resolved]
    )
