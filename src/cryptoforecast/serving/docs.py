"""``/docs`` that renders without the internet: Swagger UI served from the installed package.

FastAPI's default page loads Swagger UI's script and style from a CDN, so behind a firewall it is
a blank page. Here the same page points at copies shipped in the ``swagger-ui-bundle-v2`` package
(Swagger UI 5.31.0, Apache-2.0; import name ``swagger_ui_bundle``), served under ``/docs/assets/``;
the online validator badge is off. Swagger UI reads OpenAPI 3.1, which FastAPI publishes, from 5.0
on (the 4.x of ``swagger-ui-bundle`` 1.1.0 refused the schema). ReDoc is not bundled, so
``/redoc`` is not offered.

The page's Content-Security-Policy lets it load only those files, the schema and the one inline
script that starts Swagger UI (allowed by its sha256, see :func:`docs_csp`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from cryptoforecast.compat import import_optional

__all__ = ["ASSETS", "add_offline_docs", "docs_csp"]

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
"""The Swagger UI files ``/docs`` loads, all served from the package."""


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: str) -> str:
    """The Content-Security-Policy of the docs page ``html``: scripts, styles and images from the
    app, each inline ``<script>`` of the page by its sha256, the schema fetched from the app."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def add_offline_docs(app: Any, prefix: str = "/docs") -> None:
    """Add ``prefix`` (the Swagger UI page) and ``prefix/assets/<file>`` to ``app``.

    The app must be created with ``docs_url=None`` so FastAPI's CDN page is not registered.
    """
    fastapi = import_optional("fastapi", "serve")
    docs = import_optional("fastapi.openapi.docs", "serve")
    responses = import_optional("fastapi.responses", "serve")
    bundle = import_optional("swagger_ui_bundle", "serve")
    root = bundle.swagger_ui_path

    @app.get(prefix, include_in_schema=False)
    def swagger_ui() -> Any:
        page = docs.get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} - API docs",
            swagger_js_url=f"{prefix}/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/assets/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/assets/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = docs_csp(bytes(page.body).decode())
        return page

    @app.get(prefix + "/assets/{name}", include_in_schema=False)
    def swagger_asset(name: str) -> Any:
        media_type = ASSETS.get(name)
        if media_type is None:  # only the known files: no path from the request reaches the disk
            raise fastapi.HTTPException(status_code=404, detail=f"no docs asset {name!r}")
        return responses.Response((root / name).read_bytes(), media_type=media_type)
