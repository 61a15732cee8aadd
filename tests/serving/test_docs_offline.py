"""``/docs`` renders with the network off: the page and everything it loads come from the service."""

from __future__ import annotations

import re
from typing import Any

from cryptoforecast.config import load_config
from cryptoforecast.serving.app import create_app
from cryptoforecast.serving.docs import ASSETS
from tests.serving.conftest import SyncASGIClient

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
