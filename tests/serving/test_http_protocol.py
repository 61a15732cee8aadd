"""What every answer carries on the wire, whatever route built it: ``HEAD`` is answered like
``GET`` without a body, a query parameter given twice is a 422 (never silently dropped), and
every response has ``X-Content-Type-Options: nosniff`` and a Content-Security-Policy (JSON and
other non-pages: nothing may load; pages: only what they need from the app itself)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from typing import Any

import httpx
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app
from cryptoforecast.serving.dashboard.router import PAGE_CSP
from cryptoforecast.serving.protocol import JSON_CSP

from .conftest import FakeClock, SyncASGIClient, Trained, running_server

TOKEN = "an admin token for the protocol tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}

#: one URL of every GET route: the API, operations, the dashboard, the docs, static files
GET_URLS = [
    "/v1/forecast/bitcoin",
    "/v1/forecast?ids=bitcoin,ethereum&horizon=3",
    "/v1/models",
    "/v1/accuracy",
    "/v1/admin/models",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/assets/swagger-ui.css",
    "/",
    "/accuracy",
    "/models",
    "/static/dashboard/dashboard.css",
]
PAGES = {"/", "/accuracy", "/models"}


@pytest.fixture
def app(registry: Any, clock: FakeClock, btc_model: Trained) -> Any:
    return create_app(
        load_config(),
        registry=registry,
        admin_token=TOKEN,
        clock=clock,
        retrain=lambda **kwargs: sorted(kwargs),
    )


@pytest.fixture
def client(app: Any) -> SyncASGIClient:
    return SyncASGIClient(app)


@pytest.mark.parametrize("url", GET_URLS)
def test_head_answers_like_get_without_a_body(client: SyncASGIClient, url: str) -> None:
    got = client.get(url, headers=ADMIN)
    head = client.request("HEAD", url, headers=ADMIN)
    assert got.status_code == 200, got.text
    assert head.status_code == 200, f"HEAD {url}: {head.status_code}"
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    # the length of the body a GET would have sent (a forecast's body changes once it is cached)
    assert int(head.headers["content-length"]) > 0
    if not url.startswith("/v1/forecast") and url not in ("/healthz", "/metrics"):
        assert head.headers["content-length"] == got.headers["content-length"]


def test_head_follows_get_for_errors_and_methods(client: SyncASGIClient) -> None:
    unknown = client.request("HEAD", "/v1/forecast/notacoin")
    assert unknown.status_code == 404 and unknown.content == b""
    assert client.request("HEAD", "/v1/admin/models").status_code == 401  # no token
    # a route without GET has no HEAD either
    post_only = client.request("HEAD", "/v1/retrain", headers=ADMIN)
    assert post_only.status_code == 405 and post_only.headers["allow"] == "POST"


def test_head_on_a_real_server_sends_headers_only(app: Any) -> None:
    with running_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        got = http.get("/healthz")
        head = http.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/v1/forecast?ids=bitcoin&ids=ethereum", "ids"),
        ("/v1/forecast?ids=bitcoin&horizon=1&horizon=7", "horizon"),
        ("/v1/forecast/bitcoin?horizon=1&horizon=3", "horizon"),
        ("/v1/forecast/bitcoin?as_of=2025-01-01&as_of=2025-02-01", "as_of"),
        ("/v1/models?status=production&status=staging", "status"),
        ("/v1/accuracy?crypto_id=bitcoin&crypto_id=ethereum", "crypto_id"),
        ("/v1/admin/models?model_type=drift&model_type=naive", "model_type"),
    ],
)
def test_a_repeated_query_parameter_is_a_422_naming_it(
    client: SyncASGIClient, url: str, name: str
) -> None:
    r = client.get(url, headers=ADMIN)
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["query", name]
    assert f"{name} is given 2 times" in error["msg"] and "once" in error["msg"]


def test_repeated_ids_say_to_use_one_comma_separated_list(client: SyncASGIClient) -> None:
    r = client.get("/v1/forecast?ids=bitcoin&ids=ethereum")
    assert r.status_code == 422
    assert "ids=bitcoin,ethereum" in r.json()["detail"][0]["msg"]
    ok = client.get("/v1/forecast?ids=bitcoin,ethereum")
    assert ok.status_code == 200
    assert [f["crypto_id"] for f in ok.json()["forecasts"]] == ["bitcoin", "ethereum"]
    schema = client.get("/openapi.json").json()
    (ids,) = [p for p in schema["paths"]["/v1/forecast"]["get"]["parameters"] if p["name"] == "ids"]
    assert "comma-separated" in ids["description"] and "422" in ids["description"]


def _every_kind_of_answer(client: SyncASGIClient) -> list[Any]:
    return [
        *(client.get(url, headers=ADMIN) for url in GET_URLS),
        client.get("/v1/forecast/notacoin"),  # 404 with suggestions
        client.get("/v1/forecast/bitcoin?horizon=99"),  # 422
        client.get("/v1/admin/models"),  # 401
        client.request("DELETE", "/v1/models"),  # 405
        client.get("/no/such/route"),  # 404 from the router
        client.post("/v1/retrain", headers=ADMIN, json={}),  # 202
        client.request("HEAD", "/healthz"),
    ]


def test_every_answer_has_nosniff_and_a_content_security_policy(client: SyncASGIClient) -> None:
    for r in _every_kind_of_answer(client):
        where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
        assert r.headers.get("x-content-type-options") == "nosniff", where
        csp = r.headers.get("content-security-policy")
        assert csp, where
        assert len(r.headers.get_list("content-security-policy")) == 1, where
        path = r.request.url.path
        if path in PAGES:
            assert csp == PAGE_CSP, where  # the dashboard's own policy is kept
        elif path != "/docs":
            assert csp == JSON_CSP, where


def test_an_unexpected_error_also_gets_the_headers(app: Any) -> None:
    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/boom", boom)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get("/boom")

    r = asyncio.run(go())
    assert r.status_code == 500
    assert "an unexpected failure" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == JSON_CSP


def test_the_docs_page_allows_only_its_own_files_and_inline_script(
    client: SyncASGIClient,
) -> None:
    page = client.get("/docs")
    csp = dict(
        (part.split(" ", 1) + [""])[:2]
        for part in page.headers["content-security-policy"].split("; ")
    )
    assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    scripts = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    assert scripts, "the page starts Swagger UI with an inline script"
    allowed = csp["script-src"].split()
    assert "'unsafe-inline'" not in allowed and "'self'" in allowed
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    assert "'self'" in csp["connect-src"]  # the page fetches /openapi.json
