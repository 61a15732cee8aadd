"""Admin request bodies: the token is checked before a byte of the body is read, a body over
:data:`MAX_BODY_BYTES` is refused (413) without reading the rest, non-finite JSON numbers are a
422 whose body is valid JSON, and the retrain body accepts only what the job can run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cryptoforecast.config import MAX_OLDER_THAN_DAYS, MIN_OLDER_THAN_DAYS, load_config
from cryptoforecast.models import CROSS_ASSET_MODEL_TYPES, MODEL_TYPES
from cryptoforecast.serving import create_app
from cryptoforecast.serving.body_limit import MAX_BODY_BYTES
from cryptoforecast.serving.schemas import RetrainRequest
from cryptoforecast.training.fit import TRAINABLE_MODELS
from cryptoforecast.training.jobs import retrain_job

from .conftest import FakeClock, SyncASGIClient

TOKEN = "an admin token for the tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}
ADMIN_POSTS = ["/v1/retrain", "/v1/models/1/promote"]


@pytest.fixture
def calls() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def app(registry: Any, clock: FakeClock, calls: list[dict[str, Any]]) -> Any:
    return create_app(
        load_config(),
        registry=registry,
        admin_token=TOKEN,
        clock=clock,
        retrain=lambda **kwargs: calls.append(kwargs),
    )


@pytest.fixture
def client(app: Any) -> SyncASGIClient:
    return SyncASGIClient(app)


def _strict_json(text: str) -> Any:
    """``text`` parsed as standard JSON: NaN and Infinity are not JSON."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


# -- item: non-finite numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/v1/retrain", '{"older_than_days": NaN}'),
        ("/v1/retrain", '{"older_than_days": Infinity}'),
        ("/v1/retrain", '{"older_than_days": -Infinity}'),
        ("/v1/retrain", '{"horizon": NaN}'),
        ("/v1/retrain", '{"crypto_id": Infinity}'),
        ("/v1/retrain", '{"older_than_days": 1e999}'),
        ("/v1/retrain", "NaN"),
        ("/v1/models/1/promote", '{"reason": NaN}'),
        ("/v1/models/1/promote", "[Infinity]"),
    ],
)
def test_non_finite_json_numbers_are_a_422_with_a_valid_json_body(
    client: SyncASGIClient, url: str, body: str, calls: list[dict[str, Any]]
) -> None:
    r = client.post(url, headers={**ADMIN, **JSON}, content=body)
    assert r.status_code == 422, r.text
    detail = _strict_json(r.text)["detail"]
    assert detail and all("msg" in d and "loc" in d for d in detail)
    assert calls == []


# -- item: what the retrain job can run ------------------------------------------------------


@pytest.mark.parametrize(
    "older", [1e-300, 0.5, MIN_OLDER_THAN_DAYS - 1e-9, MAX_OLDER_THAN_DAYS + 1, 1e308]
)
def test_older_than_days_outside_the_configs_bounds_is_a_422(
    client: SyncASGIClient, older: float, calls: list[dict[str, Any]]
) -> None:
    r = client.post("/v1/retrain", headers=ADMIN, json={"older_than_days": older})
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "older_than_days"] and "or equal to" in error["msg"]
    assert calls == []


@pytest.mark.parametrize("older", [MIN_OLDER_THAN_DAYS, 1.5, MAX_OLDER_THAN_DAYS])
def test_older_than_days_inside_the_bounds_is_accepted(
    client: SyncASGIClient, older: float
) -> None:
    r = client.post("/v1/retrain", headers=ADMIN, json={"older_than_days": older})
    assert r.status_code == 202, r.text


def test_the_bounds_are_the_configs() -> None:
    schema = RetrainRequest.model_json_schema()["properties"]["older_than_days"]
    (number,) = [s for s in schema["anyOf"] if s.get("type") == "number"]
    assert (number["minimum"], number["maximum"]) == (MIN_OLDER_THAN_DAYS, MAX_OLDER_THAN_DAYS)


@pytest.mark.parametrize("older", [MIN_OLDER_THAN_DAYS, 1.5, 1234.5678, MAX_OLDER_THAN_DAYS])
def test_the_job_runs_every_accepted_age(registry: Any, older: float) -> None:
    assert retrain_job(older_than_days=older, registry=registry) == []


def test_a_global_model_type_with_one_coin_is_a_422(
    client: SyncASGIClient, calls: list[dict[str, Any]]
) -> None:
    r = client.post(
        "/v1/retrain", headers=ADMIN, json={"crypto_id": "bitcoin", "model_type": "global_lightgbm"}
    )
    assert r.status_code == 422, r.text
    assert "global_lightgbm" in r.text and "crypto_id" in r.text
    assert calls == []
    # without a coin, it selects the stale global models, which the job retrains
    r = client.post("/v1/retrain", headers=ADMIN, json={"model_type": "global_lightgbm"})
    assert r.status_code == 202, r.text


def test_the_types_trained_per_coin_are_the_catalogue_less_the_cross_asset_ones() -> None:
    assert set(TRAINABLE_MODELS) == set(MODEL_TYPES) - set(CROSS_ASSET_MODEL_TYPES)


def test_the_request_accepts_exactly_the_types_training_runs_per_coin_and_distributions(
    client: SyncASGIClient,
) -> None:
    accepted = {
        m
        for m in RetrainRequest.model_json_schema()["properties"]["model_type"]["anyOf"][0]["enum"]
    }
    assert set(TRAINABLE_MODELS) | {"global_lightgbm", "distribution"} == accepted
    for model_type in (*TRAINABLE_MODELS, "distribution"):
        r = client.post(
            "/v1/retrain", headers=ADMIN, json={"crypto_id": "bitcoin", "model_type": model_type}
        )
        assert r.status_code == 202, (model_type, r.text)


@pytest.mark.parametrize(
    ("url", "body", "name"),
    [
        ("/v1/retrain", {"older_than": 3}, "older_than"),  # not: retrain at the default age
        ("/v1/retrain", {"crypto_id": "bitcoin", "horizons": 7}, "horizons"),
        ("/v1/models/1/promote", {"reasons": "typo"}, "reasons"),
    ],
)
def test_an_unknown_body_field_is_a_422_naming_it(
    client: SyncASGIClient, url: str, body: dict[str, Any], name: str, calls: list[dict[str, Any]]
) -> None:
    r = client.post(url, headers=ADMIN, json=body)
    assert r.status_code == 422, r.text
    assert any(d["loc"][-1] == name for d in r.json()["detail"]), r.text
    assert calls == []


# -- item: the token before the body, and a bounded body -------------------------------------


def _big(n: int = 1024 * 1024) -> bytes:
    return b'{"reason": "' + b"x" * n + b'"}'


@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_a_big_body_without_the_token_is_a_401(client: SyncASGIClient, url: str) -> None:
    r = client.post(url, headers=JSON, content=_big())
    assert r.status_code == 401, r.text
    r = client.post(url, headers={**JSON, "Authorization": "Bearer wrong"}, content=b"{not json")
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_a_big_body_with_the_token_is_a_413(client: SyncASGIClient, url: str) -> None:
    r = client.post(url, headers={**ADMIN, **JSON}, content=_big())
    assert r.status_code == 413, r.text
    assert f"larger than {MAX_BODY_BYTES} bytes" in r.json()["detail"]


def test_without_a_configured_token_a_big_body_is_a_403(registry: Any, clock: FakeClock) -> None:
    app = create_app(load_config(), registry=registry, admin_token=None, clock=clock)
    r = SyncASGIClient(app).post("/v1/retrain", headers={**ADMIN, **JSON}, content=_big())
    assert r.status_code == 403, r.text


def test_a_body_at_the_limit_is_read(client: SyncASGIClient, calls: list[dict[str, Any]]) -> None:
    body = json.dumps({"crypto_id": "bitcoin"}).encode()
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(body) == MAX_BODY_BYTES
    r = client.post("/v1/retrain", headers={**ADMIN, **JSON}, content=body)
    assert r.status_code == 202, r.text
    assert calls and calls[0]["crypto_id"] == "bitcoin"


class _Upload:
    """An ASGI ``receive`` that streams ``total`` bytes in chunks and counts what was taken."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.taken = total, chunk, 0

    def chunks(self) -> Iterator[bytes]:
        while self.taken < self.total:
            n = min(self.chunk, self.total - self.taken)
            self.taken += n
            yield b" " * n

    async def receive(self) -> dict[str, Any]:
        body = next(self._it, b"")
        return {"type": "http.request", "body": body, "more_body": self.taken < self.total}

    def __enter__(self) -> _Upload:
        self._it = self.chunks()
        return self

    def __exit__(self, *exc: object) -> None:
        self._it.close()


def _call(app: Any, path: str, headers: dict[str, str], upload: _Upload) -> int:
    """Send a POST straight to the ASGI app; return the status it answered."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(app(scope, upload.receive, send))
    (status,) = statuses
    return status


FOUR_MB = 4 * 1024 * 1024


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_the_service_reads_no_body_without_the_token(app: Any, url: str, declared: bool) -> None:
    headers = {**JSON, **({"Content-Length": str(FOUR_MB)} if declared else {})}
    with _Upload(FOUR_MB) as upload:
        assert _call(app, url, headers, upload) == 401
    assert upload.taken == 0


@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_a_declared_oversize_body_is_refused_unread(app: Any, url: str) -> None:
    headers = {**ADMIN, **JSON, "Content-Length": str(FOUR_MB)}
    with _Upload(FOUR_MB) as upload:
        assert _call(app, url, headers, upload) == 413
    assert upload.taken == 0


@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_a_streamed_oversize_body_is_cut_off_at_the_limit(app: Any, url: str) -> None:
    with _Upload(FOUR_MB, chunk=4096) as upload:
        assert _call(app, url, {**ADMIN, **JSON}, upload) == 413
    assert upload.taken <= MAX_BODY_BYTES + 4096
