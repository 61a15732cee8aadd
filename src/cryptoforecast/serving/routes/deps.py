"""What the routers share: the app's services, id resolution, the admin check, query params."""

from __future__ import annotations

import difflib
import hmac
import math
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from cryptoforecast.assets import ASSETS, resolve_asset
from cryptoforecast.data.times import parse_time
from cryptoforecast.exceptions import DataError
from cryptoforecast.models import MODEL_TYPES
from cryptoforecast.serving.background import BackgroundJobs
from cryptoforecast.serving.jobs import Jobs, RetrainFn
from cryptoforecast.serving.predictor import MAX_HORIZON, Predictor
from cryptoforecast.serving.routes import ADMIN_TOKEN_ENV
from cryptoforecast.serving.schemas import Forecast
from cryptoforecast.serving.telemetry import Metrics

__all__ = [
    "CRYPTO_ID_FILTER",
    "CRYPTO_ID_PATH",
    "MAX_ID_LENGTH",
    "HORIZON_FILTER",
    "AS_OF_FORMAT",
    "AS_OF_PATTERN",
    "AS_OF_QUERY",
    "AdminRoute",
    "HORIZON_QUERY",
    "MODEL_TYPE_QUERY",
    "SERVICE",
    "SINGLE_VALUED_QUERY",
    "Service",
    "forecast",
    "invalid",
    "known_query",
    "require_admin",
    "resolve",
    "service",
    "validation_error",
    "single_valued_query",
]

HORIZON_QUERY: Any = Query(1, ge=1, le=MAX_HORIZON, description=f"candles ahead, 1..{MAX_HORIZON}")
HORIZON_FILTER: Any = Query(None, ge=1, le=MAX_HORIZON)
#: asset ids and symbols are short; a longer one cannot exist (and would only cost CPU to match)
MAX_ID_LENGTH = 64
CRYPTO_ID_PATH: Any = Path(
    ..., max_length=MAX_ID_LENGTH, description="asset id or symbol", examples=["bitcoin", "ETH"]
)
CRYPTO_ID_FILTER: Any = Query(None, max_length=MAX_ID_LENGTH)
MODEL_TYPE_QUERY: Any = Query(
    None,
    max_length=64,
    description=f"one of {', '.join(MODEL_TYPES)}; empty or absent: the best",
    json_schema_extra={"enum": ["", *MODEL_TYPES]},
)
_YEAR = "(?:197[1-9]|19[89][0-9]|20[0-9]{2}|21[0-9]{2})"
_DAY = (
    f"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    "|(?:19(?:7[26]|8[048]|9[26])|(?:20|21)(?:0[48]|[2468][048]|[13579][26])|2000)-02-29)"
)
_TIME = "T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,6})?)?"
_ZONE = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
#: what ``as_of`` accepts: a calendar date of 1971..2199, or one with a time and an optional
#: UTC offset (an OpenAPI pattern, so only what both JavaScript and Python read alike); every
#: time it matches lies inside the parser's range (``data.times``), whatever its offset
AS_OF_PATTERN = f"^{_DAY}(?:{_TIME}{_ZONE}?)?$"
AS_OF_FORMAT = re.compile(AS_OF_PATTERN)
AS_OF_QUERY: Any = Query(
    None,
    max_length=40,
    description="forecast from what was known at this time; default: the latest candle. A "
    "date (2025-01-01) means that day's close (the daily candle dated that day); a date-time "
    "(2025-01-01T12:00, 2025-01-01T12:00:00Z, 2025-01-01T14:00:00%2B02:00 with the + encoded) "
    "means the last candle closed at or before it (a 1d candle dated D closes at D+1 00:00 "
    "UTC, a 4h candle 4 hours after it opens); without a zone it is UTC. From 1970-01-01 to "
    "2261-12-31; anything else is a 422. Staleness is judged at that time. A forecast asked "
    "for with as_of is back-dated: it is not recorded in the ledger, so live accuracy "
    "(/v1/accuracy) never counts it.",
    json_schema_extra={"pattern": AS_OF_PATTERN},
    examples=["2025-01-01", "2025-01-01T12:00:00Z"],
)


@dataclass
class Service:
    """Everything one app instance holds (``app.state.service``)."""

    predictor: Predictor
    metrics: Metrics
    jobs: Jobs
    settings: Any
    admin_token: str | None
    retrain: RetrainFn | None
    started: float
    #: the candle refresher and scheduled jobs (``None``: the app runs none)
    background: BackgroundJobs | None = None


def service(request: Request) -> Service:
    """The app's :class:`Service` (a dependency)."""
    return request.app.state.service  # type: ignore[no-any-return]


#: the app's :class:`Service` as a route parameter default (``svc: Service = SERVICE``)
SERVICE: Any = Depends(service)


def _suggest(name: str) -> list[str]:
    by_key = {a.id: a.id for a in ASSETS} | {a.symbol.lower(): a.id for a in ASSETS}
    close = difflib.get_close_matches(name.strip().lower(), list(by_key), n=3, cutoff=0.5)
    return sorted({by_key[c] for c in close})


def resolve(crypto_id: str) -> str:
    """The asset id of ``crypto_id`` (an id or a symbol), or a 404 with suggestions."""
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


async def forecast(
    svc: Service, crypto_id: str, horizon: int, model_type: str | None, as_of: str | None = None
) -> Forecast:
    """One forecast, answered in the thread pool by one :meth:`Predictor.predict` (candles
    loaded and the registry read once, then the cache looked up or the forecast computed), so
    neither the reads nor the computation block other requests. ``as_of``: see
    :meth:`Predictor.predict`; one that does not parse is a 422 naming it."""
    pred = svc.predictor
    cid, mtype = resolve(crypto_id), model_type or None
    if as_of is not None:
        try:
            if AS_OF_FORMAT.fullmatch(as_of) is None:  # the published pattern, exactly
                raise DataError(
                    f"as_of={as_of!r} is not a date or date-time of the published form "
                    "YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|+HH:MM|-HH:MM]], years 1971-2199; e.g. "
                    "2025-01-01 or 2025-01-01T12:00:00Z"
                )
            parse_time(as_of, "as_of")
        except DataError as exc:
            raise invalid("query", "as_of", as_of, str(exc)) from None
    result = await run_in_threadpool(
        pred.predict, cid, horizon=horizon, model_type=mtype, as_of=as_of
    )
    svc.metrics.observe_forecast(result)
    return result


def invalid(where: str, name: str, value: Any, message: str) -> RequestValidationError:
    """A 422 in the documented validation-error shape (``detail: [{loc, msg, type, input}]``),
    for input checks the schema alone cannot express (the choices live in code)."""
    return RequestValidationError(
        [{"loc": (where, name), "msg": message, "type": "value_error", "input": value}]
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'nan', 'inf', '-inf': JSON has no such numbers
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """The 422 of a request that failed validation, in FastAPI's shape (``detail: [{loc, msg,
    type, input, ctx}]``), with a non-finite number received (a body's ``NaN`` or ``Infinity``)
    echoed as a string: the answer stays valid JSON instead of failing to render (a 500)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = _json_safe(jsonable_encoder(errors))
    return JSONResponse({"detail": detail}, status_code=422)


def known_query(*names: str) -> Any:
    """A dependency answering 422 for a query parameter the endpoint does not take: ``?asof=``
    for ``?as_of=`` would otherwise be ignored and the latest forecast returned as if it were
    the one asked for."""

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            raise invalid(
                "query",
                unknown[0],
                request.query_params[unknown[0]],
                f"unknown query parameter(s) {', '.join(unknown)}; this endpoint takes "
                f"{', '.join(names)}",
            )

    return Depends(check)


def single_valued_query(request: Request) -> None:
    """A 422 for a query parameter given more than once: every parameter takes one value, and
    keeping one of several (the last) would answer a question that was not asked."""
    params = request.query_params
    repeated = sorted({name for name in params if len(params.getlist(name)) > 1})
    if repeated:
        name, values = repeated[0], params.getlist(repeated[0])
        hint = " (several ids go in one comma-separated list: ids=bitcoin,ethereum)"
        raise invalid(
            "query",
            name,
            values,
            f"query parameter {name} is given {len(values)} times; give it once"
            + (hint if name == "ids" else ""),
        )


#: :func:`single_valued_query` as a dependency (every route of the app has it)
SINGLE_VALUED_QUERY: Any = Depends(single_valued_query)


def require_admin(request: Request, authorization: str | None = Header(None)) -> None:
    """Admin endpoints need ``Authorization: Bearer <token>`` (compared in constant time)."""
    token = service(request).admin_token
    if token is None:
        raise HTTPException(
            status_code=403,
            detail="admin endpoints are disabled: no admin token is configured. Set "
            f"{ADMIN_TOKEN_ENV} on the server and send 'Authorization: Bearer <token>'.",
        )
    scheme, _, given = (authorization or "").partition(" ")
    ok = scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode()
    )
    if not ok:
        raise HTTPException(
            status_code=401,
            detail="missing or wrong admin token; send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


class AdminRoute(APIRoute):
    """A route that, when it depends on :func:`require_admin`, checks the token before the body
    is read. FastAPI reads and parses a body before it solves a route's dependencies, so the
    dependency alone lets an anonymous client make the service buffer and parse any body (and
    answers 422, not 401); the dependency stays, and documents the header in OpenAPI."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not any(d.dependency is require_admin for d in self.dependencies):
            return handler

        async def token_first(request: Request) -> Response:
            require_admin(request, request.headers.get("authorization"))
            return await handler(request)

        return token_first
