"""``cryptoforecast serve`` and ``ledger``: the HTTP service and its live accuracy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cryptoforecast.cli._common import console, num
from cryptoforecast.compat import import_optional
from cryptoforecast.config import load_config
from cryptoforecast.data import resolve_asset
from cryptoforecast.redaction import mask_url
from cryptoforecast.serving.app import create_app
from cryptoforecast.serving.ledger import Ledger

__all__ = ["ledger_app", "serve"]

ledger_app = typer.Typer(
    help="The forecast ledger: live, out-of-sample accuracy.", no_args_is_help=True
)


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    source: Annotated[
        str, typer.Option("--source", "-s", help="Candle source of the forecasts.")
    ] = "snapshot",
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve forecasts over HTTP (FastAPI + uvicorn): the dashboard at /, OpenAPI at /docs, metrics at /metrics."""

    uvicorn = import_optional("uvicorn", "serve")
    uvicorn.run(create_app(load_config(), source=source), host=host, port=port, log_level=log_level)


@ledger_app.command("score")
def ledger_score(
    crypto_id: Annotated[str | None, typer.Argument(help="Only this asset.")] = None,
    model_type: Annotated[
        str | None, typer.Option("--model", "-m", help="Only this model type.")
    ] = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", "-h", help="Only this horizon.")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Ledger database URL.")] = None,
) -> None:
    """Score past forecasts against realised closes: MAPE and MASE beside naive, interval coverage."""

    cid = resolve_asset(crypto_id).id if crypto_id else None
    ledger = Ledger(url)
    rows = ledger.score(crypto_id=cid, model_type=model_type, horizon=horizon)
    table = Table(title=f"Forecast ledger ({mask_url(ledger.url)})")
    for col in (
        "crypto_id",
        "model",
        "h",
        "forecasts",
        "scored",
        "pending",
        "MAPE %",
        "naive MAPE %",
        "MASE",
        "cov 80%",
        "cov 95%",
    ):
        table.add_column(col, justify="left" if col in ("crypto_id", "model") else "right")

    for r in rows:
        table.add_row(
            r.crypto_id,
            r.model_type,
            str(r.horizon),
            str(r.n_forecasts),
            str(r.n_scored),
            str(r.n_pending),
            num(r.mape, ".3f"),
            num(r.naive_mape, ".3f"),
            num(r.mase, ".3f"),
            num(r.coverage_80, ".0%"),
            num(r.coverage_95, ".0%"),
        )
    console().print(table)
    if not rows:
        console().print(
            "No forecasts in the ledger yet: they are recorded as the service answers requests."
        )
    else:
        console().print(
            "MASE = MAE of the forecasts / MAE of the naive forecast (last close) on the same forecasts; below 1 beats naive."
        )
