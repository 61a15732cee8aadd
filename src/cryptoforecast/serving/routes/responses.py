"""Every error status each operation can answer, in one table (:data:`ERRORS`), and its body.

A route passes ``responses=documented_errors("GET /v1/forecast/{crypto_id}")`` so the OpenAPI
schema lists exactly these answers besides its success; a test checks that the table names
every operation of the app and nothing else, and schemathesis that no operation answers a
status missing here. A 422 has :class:`InvalidRequest` (FastAPI's validation-error body:
``detail``, a list naming each invalid field); every other error has :class:`Error`
(``detail``: what went wrong and how to fix it, or for an unknown asset :class:`UnknownAsset`
with suggestions).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ERRORS", "Error", "InvalidField", "InvalidRequest", "UnknownAsset", "documented_errors"]


class InvalidField(BaseModel):
    """One invalid, unknown or repeated parameter or body field of a 422."""

    loc: list[str | int] = Field(description="where, e.g. ['query', 'horizon']")
    msg: str = Field(description="what is wrong and how to fix it")
    type: str
    input: Any = Field(None, description="the value received")
    ctx: dict[str, Any] | None = None


class InvalidRequest(BaseModel):
    """The body of a 422 (FastAPI's validation-error shape)."""

    detail: list[InvalidField]


class UnknownAsset(BaseModel):
    """The ``detail`` of a 404 for an asset id or symbol that is not known."""

    message: str
    crypto_id: str
    suggestions: list[str]


class Error(BaseModel):
    """The body of every error answer but a 422."""

    detail: str | UnknownAsset


_400 = "the body is not valid JSON"
_401 = "missing or wrong admin token: send 'Authorization: Bearer <token>'"
_403 = "admin endpoints are disabled: the server has no admin token configured"
_413 = "the body is larger than the service accepts"
_422 = "a parameter or body field is invalid, unknown or given twice (the detail names it)"
_502 = "the live candle source failed"
_503 = "a part the answer needs is unavailable (the detail names the kind of failure)"
_FORECAST = {
    404: "unknown asset id or symbol (with suggestions), or no candles at or before as_of",
    422: _422,
    502: _502,
    503: _503 + ": the model registry, the cached candles or the prediction",
}
_ADMIN = {401: _401, 403: _403}

ERRORS: dict[str, dict[int, str]] = {
    "GET /v1/forecast/{crypto_id}": _FORECAST,
    "GET /v1/forecast": _FORECAST,
    "GET /v1/models": {
        404: "unknown crypto_id (with suggestions)",
        422: _422,
        503: _503 + ": the model registry",
    },
    "GET /v1/admin/models": {
        **_ADMIN,
        404: "unknown crypto_id (with suggestions)",
        422: _422,
        503: _503 + ": the model registry",
    },
    "POST /v1/models/{model_id}/promote": {
        400: _400,
        **_ADMIN,
        404: "no model with this id",
        409: "the model cannot be promoted from its stage, or its latest promotion-gate "
        'decision did not pass (or it has none): send "force": true to override',
        413: _413,
        422: _422,
        503: _503 + ": the model registry",
    },
    "POST /v1/retrain": {
        400: _400,
        **_ADMIN,
        404: "unknown crypto_id (with suggestions)",
        413: _413,
        422: _422,
        429: "the retraining queue is full: retry later",
        501: "retraining is not wired into this service",
        503: _503 + ": the model registry, or the retraining queue is full",
    },
    "GET /v1/retrain/{job_id}": {**_ADMIN, 404: "no retraining job with this id", 422: _422},
    "GET /v1/accuracy": {
        404: "unknown crypto_id (with suggestions)",
        422: _422,
        503: _503 + ": the ledger or the model registry",
    },
    "GET /healthz": {422: "a query parameter is given twice"},
}
"""``"METHOD /path"`` -> every error status it can answer -> what that status means there."""

_CHALLENGE = {
    "WWW-Authenticate": {"description": "Bearer", "required": True, "schema": {"type": "string"}}
}


def documented_errors(operation: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` argument of the route of ``operation`` (``"GET /healthz"``)."""
    try:
        errors = ERRORS[operation]
    except KeyError:
        raise KeyError(
            f"no documented errors for {operation!r}; add the operation to "
            f"cryptoforecast.serving.routes.responses.ERRORS (known: {', '.join(ERRORS)})"
        ) from None
    documented: dict[int | str, dict[str, Any]] = {}
    for code, text in errors.items():
        documented[code] = {"description": text, "model": InvalidRequest if code == 422 else Error}
        if code == 401:
            documented[code]["headers"] = _CHALLENGE
    return documented
