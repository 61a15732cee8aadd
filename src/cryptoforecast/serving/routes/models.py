"""The registry over HTTP: ``GET /v1/models`` (public view) and the admin endpoints.

Admin: ``GET /v1/admin/models`` (full records: artifact paths, hashes, lineage, ``created_by``),
``POST /v1/models/{model_id}/promote``, ``POST /v1/retrain`` (202, runs in the background) and
``GET /v1/retrain/{job_id}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query

from cryptoforecast.evaluation.guard import GUARD_REASON
from cryptoforecast.exceptions import RegistryError, RegistryUnavailable
from cryptoforecast.registry import KINDS, STAGES
from cryptoforecast.serving.jobs import JobQueueFull
from cryptoforecast.serving.routes.deps import (
    CRYPTO_ID_FILTER,
    HORIZON_FILTER,
    MODEL_TYPE_QUERY,
    SERVICE,
    AdminRoute,
    Service,
    invalid,
    require_admin,
    resolve,
)
from cryptoforecast.serving.routes.responses import documented_errors
from cryptoforecast.serving.schemas import ModelList, PromoteRequest, PublicModel, RetrainRequest

__all__ = ["MAX_MODEL_ID", "router"]

#: model ids are 64-bit database integers; a larger one cannot exist
MAX_MODEL_ID = 2**63 - 1

router = APIRouter(route_class=AdminRoute)  # admin routes check the token before the body
_ADMIN = [Depends(require_admin)]
_STATUS_FILTER: Any = Query(
    None,
    max_length=16,
    description="staging, production or archived",
    json_schema_extra={"enum": list(STAGES)},
)
_KIND_FILTER: Any = Query(
    None,
    max_length=16,
    description="point or distribution; absent: both",
    json_schema_extra={"enum": list(KINDS)},
)


def _records(
    svc: Service,
    crypto_id: str | None,
    model_type: str | None,
    horizon: int | None,
    status: str | None,
    kind: str | None = None,
) -> list[Any]:
    cid = resolve(crypto_id) if crypto_id else None
    if status is not None and status not in STAGES:  # a bad filter is the client's error
        raise invalid(
            "query", "status", status, f"status must be one of {', '.join(STAGES)}; got {status!r}"
        )
    if kind is not None and kind not in KINDS:
        raise invalid(
            "query", "kind", kind, f"kind must be one of {', '.join(KINDS)}; got {kind!r}"
        )
    mtype = svc.predictor.check_model_type(model_type or None)
    return list(
        svc.predictor.registry.list_models(
            crypto_id=cid, model_type=mtype, horizon=horizon, status=status, kind=kind
        )
    )


def _public(record: Any, guard: dict[int, str] | None = None) -> PublicModel:
    """The public view of a record: no paths, no lineage; a distribution's scale model; the
    live guard's last demotion evidence (``guard``: model id -> reason)."""
    skip = ("distribution", "guard")
    fields = {k: getattr(record, k) for k in PublicModel.model_fields if k not in skip}
    return PublicModel.model_validate(
        {
            **fields,
            "distribution": record.scale_model,
            "guard": (guard or {}).get(record.model_id),
        }
    )


def _guard_evidence(svc: Service, records: list[Any]) -> dict[int, str]:
    """Model id -> the reason of its latest live-guard demotion, for ``records``."""
    if not records:
        return {}
    ids = {r.model_id for r in records}
    out: dict[int, str] = {}
    for event in svc.predictor.registry.history():
        if (
            event.model_id in ids
            and event.event == "demote"
            and event.reason.startswith(GUARD_REASON)
        ):
            out[event.model_id] = event.reason
    return out


@router.get(
    "/v1/models",
    response_model=ModelList,
    tags=["models"],
    responses=documented_errors("GET /v1/models"),
)
def list_models(
    crypto_id: str | None = CRYPTO_ID_FILTER,
    model_type: str | None = MODEL_TYPE_QUERY,
    horizon: int | None = HORIZON_FILTER,
    status: str | None = _STATUS_FILTER,
    kind: str | None = _KIND_FILTER,
    svc: Service = SERVICE,
) -> ModelList:
    """Registered models, oldest first: ids, kinds (point model or distribution, with its scale
    model), versions, stages and metrics."""
    records = _records(svc, crypto_id, model_type, horizon, status, kind)
    guard = _guard_evidence(svc, records)
    return ModelList(models=[_public(r, guard) for r in records])


@router.get(
    "/v1/admin/models",
    tags=["admin"],
    dependencies=_ADMIN,
    responses=documented_errors("GET /v1/admin/models"),
)
def list_models_admin(
    crypto_id: str | None = CRYPTO_ID_FILTER,
    model_type: str | None = MODEL_TYPE_QUERY,
    horizon: int | None = HORIZON_FILTER,
    status: str | None = _STATUS_FILTER,
    kind: str | None = _KIND_FILTER,
    svc: Service = SERVICE,
) -> dict[str, Any]:
    """Registered models with everything the registry holds (artifact paths, lineage, ...)."""
    records = _records(svc, crypto_id, model_type, horizon, status, kind)
    return {"models": [r.to_dict() for r in records]}


@router.post(
    "/v1/models/{model_id}/promote",
    tags=["admin"],
    dependencies=_ADMIN,
    responses=documented_errors("POST /v1/models/{model_id}/promote"),
)
def promote(
    model_id: int = Path(..., ge=1, le=MAX_MODEL_ID),
    body: PromoteRequest | None = Body(None),
    svc: Service = SERVICE,
) -> dict[str, Any]:
    """Make ``model_id`` the production model of its key (the previous one is archived).

    Only a model whose latest promotion-gate decision passed is promoted without
    ``"force": true``; the override is recorded in the registry history."""
    registry = svc.predictor.registry
    req = body or PromoteRequest()
    try:
        registry.get(model_id)
    except RegistryUnavailable:
        raise  # the database, not the request: a 503 naming the kind only
    except RegistryError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    try:
        result = registry.promote(model_id, reason=req.reason, force=req.force)
    except RegistryUnavailable:
        raise
    except RegistryError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    record = result if hasattr(result, "to_dict") else registry.get(model_id)
    return {"promoted": record.to_dict()}


@router.post(
    "/v1/retrain",
    status_code=202,
    tags=["admin"],
    dependencies=_ADMIN,
    responses=documented_errors("POST /v1/retrain"),
)
def retrain(body: RetrainRequest | None = Body(None), svc: Service = SERVICE) -> dict[str, Any]:
    """Start retraining in the background; poll ``GET /v1/retrain/{job_id}``."""
    if svc.retrain is None:
        raise HTTPException(
            status_code=501,
            detail="retraining is not wired into this service: build it with "
            "create_app(..., retrain=cryptoforecast.training.jobs.retrain_job) as "
            "'cryptoforecast serve' does, or run 'cryptoforecast retrain'",
        )
    fn = svc.retrain
    req = body or RetrainRequest()
    kwargs = {k: v for k, v in req.model_dump().items() if v is not None}
    if "crypto_id" in kwargs:
        kwargs["crypto_id"] = resolve(kwargs["crypto_id"])
    if svc.predictor._registry is not None:
        kwargs.setdefault("registry", svc.predictor.registry)
    shown = {k: v for k, v in kwargs.items() if k != "registry"}
    try:
        return svc.jobs.submit(lambda: fn(**kwargs), shown)
    except JobQueueFull as exc:
        raise HTTPException(
            status_code=503, detail=str(exc), headers={"Retry-After": "60"}
        ) from None


@router.get(
    "/v1/retrain/{job_id}",
    tags=["admin"],
    dependencies=_ADMIN,
    responses=documented_errors("GET /v1/retrain/{job_id}"),
)
def retrain_status(
    job_id: str = Path(..., max_length=64), svc: Service = SERVICE
) -> dict[str, Any]:
    """Status of a retraining job."""
    job = svc.jobs.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"no retraining job {job_id!r}")
    return job
