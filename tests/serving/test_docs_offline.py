"""``/docs`` renders with the network off: the page and everything it loads come from the service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving.app import create_app
from cryptoforecast.serving.docs import ASSETS
from tests.chromium import require_chromium
from tests.serving.conftest import SyncASGIClient, running_server

URL = re.compile(r"""(?:https?:)?//[\w.-]+""")


def test_docs_page_and_its_assets_need_no_other_host(registry: Any) -> None:
    client = SyncASGIClient(create_app(load_config(), registry=registry))
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert URL.findall(page.text) == [], "the page must not point at any other host"
    loaded = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert sorted(loaded) == sorted(f"/docs/assets/{name}" for name in ASSETS)
    for path in loaded:
        asset = client.get(path)
        assert asset.status_code == 200 and len(asset.content) > 500, path
        assert asset.headers["content-type"].startswith(ASSETS[path.rsplit("/", 1)[1]])
    css = client.get("/docs/assets/swagger-ui.css").text
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", css), "the style sheet fetches nothing"
    assert re.search(r'"?validatorUrl"?\s*:\s*null', page.text), "no online validator badge"
    assert client.get("/openapi.json").status_code == 200  # what the page renders
    assert client.get("/docs/assets/..%2Fapp.py").status_code == 404
    assert client.get("/docs/assets/index.html").status_code == 404


@dataclass
class DocsVisit:
    """``/docs`` loaded in Chromium: what it logged and requested, what Swagger UI drew."""

    base: str
    policy: str
    errors: list[str]
    requests: list[str]
    documented_operations: int
    drawn_operations: int
    text: str


@pytest.fixture(scope="module")
def docs_in_chromium(tmp_path_factory: pytest.TempPathFactory) -> DocsVisit:
    from cryptoforecast.registry import ModelRegistry

    path = require_chromium()
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("docs-chromium")
    registry = ModelRegistry(f"sqlite:///{home / 'r.db'}", artifact_root=home / "artifacts")
    errors: list[str] = []
    requests: list[str] = []
    app = create_app(load_config(), registry=registry)
    documented = sum(len(ops) for ops in app.openapi()["paths"].values())
    with running_server(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            response = page.goto(base + "/docs", wait_until="networkidle")
            assert response is not None and response.status == 200
            page.wait_for_selector("#swagger-ui .swagger-ui", timeout=20_000)
            visit = DocsVisit(
                base=base,
                policy=response.headers["content-security-policy"],
                errors=errors,
                requests=requests,
                documented_operations=documented,
                drawn_operations=page.locator(".opblock").count(),
                text=page.inner_text("#swagger-ui"),
            )
        finally:
            browser.close()
    registry.close()
    return visit


@pytest.mark.slow
def test_docs_page_runs_in_chromium_under_its_content_security_policy(
    docs_in_chromium: DocsVisit,
) -> None:
    """Swagger UI starts with the page's policy enforced (its script, its inline start-up script
    by hash, its styles): no console error (a refused script, style or image is one) and no
    request to another host."""
    visit = docs_in_chromium
    assert "default-src 'none'" in visit.policy and "'unsafe-inline'" not in visit.policy
    assert visit.errors == []
    assert [u for u in visit.requests if not u.startswith((visit.base, "data:"))] == []
    assert any(u.endswith("/openapi.json") for u in visit.requests), "Swagger UI ran"


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the bundled Swagger UI 4.15.5 (swagger-ui-bundle 1.1.0) reads OpenAPI 3.0 only; "
    "FastAPI publishes 3.1, so the page says 'Unable to render this definition'",
)
def test_docs_page_draws_every_operation(docs_in_chromium: DocsVisit) -> None:
    visit = docs_in_chromium
    assert visit.drawn_operations == visit.documented_operations, visit.text[:300]
