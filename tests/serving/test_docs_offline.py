"""``/docs`` renders with the network off: the page and everything it loads come from the service."""

from __future__ import annotations

import re
import sys
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


def test_bundled_swagger_ui_reads_the_openapi_version_the_app_publishes(registry: Any) -> None:
    """FastAPI publishes OpenAPI 3.1; Swagger UI reads it from 5.0 on (its ``isOAS31`` check).
    The 4.x bundle refuses it with "does not specify a valid version field"."""
    client = SyncASGIClient(create_app(load_config(), registry=registry))
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1.")
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    reads_31 = "isOAS31" in bundle
    assert reads_31, "the served Swagger UI predates OpenAPI 3.1 (needs 5.0 or later)"


def test_missing_swagger_ui_names_the_package_that_reads_openapi_3_1(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pip install swagger_ui_bundle`` would bring back the 4.x bundle that cannot draw 3.1."""
    monkeypatch.setitem(sys.modules, "swagger_ui_bundle", None)  # import now fails
    with pytest.raises(ImportError, match=r"pip install 'swagger-ui-bundle-v2==5\.31\.0'"):
        create_app(load_config(), registry=registry)


@dataclass
class DocsVisit:
    """``/docs`` loaded in Chromium: what it logged and requested, what Swagger UI drew."""

    base: str
    policy: str
    errors: list[str]
    requests: list[str]
    documented_operations: list[str]
    drawn_operations: list[str]
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
    documented = sorted(
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    )
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
                drawn_operations=sorted(
                    page.eval_on_selector_all(
                        ".opblock .opblock-summary",
                        """blocks => blocks.map(b =>
                            b.querySelector('.opblock-summary-method').innerText + ' ' +
                            b.querySelector('.opblock-summary-path').dataset.path)""",
                    )
                ),
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
def test_docs_page_draws_every_operation(docs_in_chromium: DocsVisit) -> None:
    """Swagger UI draws each operation of the published schema, by method and path."""
    visit = docs_in_chromium
    assert len(visit.documented_operations) > 1
    assert visit.drawn_operations == visit.documented_operations, visit.text[:300]
