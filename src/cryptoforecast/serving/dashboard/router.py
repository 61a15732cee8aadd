"""The dashboard's routes: three read-only pages, their static files, the backtest reports.

``dashboard_router()`` returns a FastAPI ``APIRouter``; the app includes it with one line. The
pages read the app's ``Predictor`` (``app.state.predictor``) and settings, so they show exactly
what the JSON API serves. Every page is answered with a Content-Security-Policy that allows
nothing but the app itself: the browser refuses any script, style, font or image from elsewhere.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations
# (``Request``), which are imported inside ``dashboard_router`` and must be objects, not strings.
import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from cryptoforecast.serving.dashboard.accuracy import ROLLING_WINDOW, accuracy_page
from cryptoforecast.serving.dashboard.charts import format_number
from cryptoforecast.serving.dashboard.models import list_reports, models_page, report_path
from cryptoforecast.serving.dashboard.overview import CLOSE_DAYS, overview_page

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["REPORTS_DIR_ENV", "STATIC_PREFIX", "dashboard_router"]

#: folder of the HTML backtest reports the models page links to (default ``./reports``, where
#: ``cryptoforecast demo`` writes them)
REPORTS_DIR_ENV = "CRYPTOFORECAST_REPORTS_DIR"
STATIC_PREFIX = "/static/dashboard"
REPORTS_PREFIX = "/reports"

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
#: the backtest reports are single files with inline styles and data: images
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"

_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cryptoforecast.serving.dashboard", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["pct"] = lambda v: "-" if v is None else f"{v * 100:.1f}%"
    env.filters["signed_pct"] = lambda v: "-" if v is None else f"{v:+.2f}%"
    env.filters["pvalue"] = lambda v: "-" if v is None else f"{v:.3g}"
    env.filters["svg"] = Markup  # charts.py escapes every text it puts into an SVG
    env.filters["day"] = lambda t: "-" if t is None else f"{t:%Y-%m-%d}"
    env.filters["when"] = lambda t: "-" if t is None else f"{t:%Y-%m-%d %H:%M} UTC"
    return env


def _static_files() -> dict[str, bytes]:
    folder = resources.files("cryptoforecast.serving.dashboard") / "static"
    return {f.name: f.read_bytes() for f in folder.iterdir() if f.name.endswith((".css", ".js"))}


def dashboard_router(reports_dir: str | Path | None = None) -> "APIRouter":
    """The dashboard: ``/`` (forecasts), ``/accuracy`` (the ledger), ``/models`` (the registry).

    Args:
        reports_dir: folder of HTML backtest reports listed on ``/models`` and served under
            ``/reports/``; default ``$CRYPTOFORECAST_REPORTS_DIR``, else ``./reports``.
    """
    from fastapi import APIRouter, HTTPException, Request
    from fastapi.responses import HTMLResponse, Response

    folder = Path(reports_dir or os.environ.get(REPORTS_DIR_ENV) or "reports").resolve()
    env = _environment()
    static = _static_files()
    router = APIRouter(include_in_schema=False)

    def page(template: str, request: Request, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(
            static=STATIC_PREFIX, path=request.url.path, **context
        )
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": PAGE_CSP,
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        pred = request.app.state.predictor
        horizons = list(request.app.state.settings.horizons)
        return page("overview.html", request, view=overview_page(pred, horizons), days=CLOSE_DAYS)

    @router.get("/accuracy", response_class=HTMLResponse)
    def accuracy(request: Request) -> HTMLResponse:
        view = accuracy_page(request.app.state.predictor)
        return page("accuracy.html", request, view=view, window=ROLLING_WINDOW)

    @router.get("/models", response_class=HTMLResponse)
    def models(request: Request) -> HTMLResponse:
        reports = list_reports(folder, REPORTS_PREFIX)
        view = models_page(request.app.state.predictor, reports)
        return page("models.html", request, view=view)

    @router.get(STATIC_PREFIX + "/{name}")
    def static_file(name: str) -> Response:
        body = static.get(name)
        if body is None:
            raise HTTPException(status_code=404, detail=f"no dashboard file {name!r}")
        return Response(
            body,
            media_type=_STATIC_TYPES[Path(name).suffix],
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @router.get(REPORTS_PREFIX + "/{name}", response_class=HTMLResponse)
    def report(name: str) -> HTMLResponse:
        # only what the listing shows (the same check): no path, no hidden file, no symlink out
        path = report_path(folder, name)
        try:
            body = path.read_bytes() if path is not None else None
        except OSError:  # removed or made unreadable since
            body = None
        if body is None:
            raise HTTPException(
                status_code=404,
                detail=f"no backtest report {name!r}; the list is on /models",
            )
        # a report is written in UTF-8; bytes that are not are shown as U+FFFD, never a 500
        return HTMLResponse(
            body.decode("utf-8", errors="replace"),
            headers={"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"},
        )

    return router
