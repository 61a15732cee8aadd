"""``cryptoforecast serve`` and ``ledger``: the HTTP service and its live accuracy."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cryptoforecast.assets import resolve_asset
from cryptoforecast.cli._common import HELP, console, echo_json, num
from cryptoforecast.cli.app_factory import SOURCE_ENV
from cryptoforecast.compat import import_optional
from cryptoforecast.config import load_config
from cryptoforecast.data import FILE_SOURCE, import_coins
from cryptoforecast.data.live import LIVE_SOURCE_NAMES
from cryptoforecast.exceptions import DataError
from cryptoforecast.models import load_plugins
from cryptoforecast.redaction import mask_url
from cryptoforecast.serving.ledger import Ledger
from cryptoforecast.serving.routes import ADMIN_TOKEN_ENV
from cryptoforecast.serving.schemas import AccuracyRow

__all__ = ["distribution_score_table", "ledger_app", "serve"]

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_HOST = re.compile(r"^[A-Za-z0-9.:\[\]%-]+$")

ledger_app = typer.Typer(
    help="The forecast ledger: live, out-of-sample accuracy.",
    no_args_is_help=True,
    context_settings=HELP,
)


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            "-s",
            help="Candle source of the forecasts: snapshot, csv (the coins of `data import`), "
            "binance or coingecko.",
        ),
    ] = "snapshot",
    path: Annotated[
        list[str] | None,
        typer.Option(
            "--path",
            help="With --source csv: a CSV file of daily candles to import and serve, as "
            "ID=FILE (or FILE: the id is its name, e.g. mycoin.csv is mycoin); repeatable.",
        ),
    ] = None,
    log_level: Annotated[
        str,
        typer.Option("--log-level", help=f"uvicorn log level: {', '.join(_LOG_LEVELS)}."),
    ] = "info",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            max=64,
            help="Server processes; the candle refresher and scheduled jobs run in one of them.",
        ),
    ] = 1,
) -> None:
    """Serve forecasts over HTTP (FastAPI + uvicorn): the dashboard at /, OpenAPI at /docs,
    metrics at /metrics.

    With a live source (binance, coingecko) a background refresher fetches each new candle a
    little after it closes; stale-model retraining runs on the schedule set in the config.
    With --source csv it serves the coins imported with `data import` (import a new file again
    to move them on); each --path file is imported first, as `data import` does."""

    if not _HOST.match(host):
        raise typer.BadParameter(
            f"{host!r} is not a host name or IP address (e.g. 127.0.0.1, 0.0.0.0, ::1, localhost)",
            param_hint="'--host'",
        )
    if source not in ("snapshot", "csv", *LIVE_SOURCE_NAMES):
        raise typer.BadParameter(
            f"{source!r} is not a candle source to serve from; use snapshot, csv, "
            f"{', '.join(LIVE_SOURCE_NAMES)}",
            param_hint="'--source'",
        )
    if log_level not in _LOG_LEVELS:
        raise typer.BadParameter(
            f"{log_level!r} is not a log level; use one of {', '.join(_LOG_LEVELS)}",
            param_hint="'--log-level'",
        )
    if path:
        _import_files(path, source)
    # a bad plug-in fails here, with its ConfigError, before the server starts; each worker's
    # create_app loads them again on its own main thread
    load_plugins(load_config())
    uvicorn = import_optional("uvicorn", "serve")
    typer.echo(_admin_token_notice(os.environ.get(ADMIN_TOKEN_ENV)), err=True)
    os.environ[SOURCE_ENV] = source  # read by the app factory in every worker process
    uvicorn.run(
        "cryptoforecast.cli.app_factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        workers=workers,
    )


def _import_files(specs: list[str], source: str) -> None:
    """Import each ``ID=FILE`` (or ``FILE``, its id its name) of ``serve --path`` as ``data
    import`` does, before the server starts: every file is validated first, so a bad one
    changes nothing and the service does not start."""
    if source != FILE_SOURCE:
        raise typer.BadParameter(
            f"--path serves candles from a file, which needs --source {FILE_SOURCE} (got "
            f"--source {source}); add --source {FILE_SOURCE}",
            param_hint="'--path'",
        )
    pairs: list[tuple[str, Path]] = []
    for spec in specs:
        coin, sep, file = spec.partition("=")
        target = Path(file if sep else spec)
        if not sep:  # mycoin.csv, mycoin.csv.gz: the name before the first dot
            coin = target.name.split(".", 1)[0].lower()
        if not target.is_file():
            raise typer.BadParameter(
                f"{target.name!r} is not a file; give --path ID=FILE with an existing CSV file",
                param_hint="'--path'",
            )
        pairs.append((coin, target))
    try:  # every id and file checked before any is stored: one bad file imports none
        done = import_coins(pairs)
    except DataError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--path'") from exc
    for imported, (_, target) in zip(done, pairs, strict=True):
        typer.echo(
            f"imported {imported.coin.id}: {len(imported.candles):,} daily candles from "
            f"{target.name}",
            err=True,
        )


def _admin_token_notice(token: str | None) -> str:
    """Where the admin token comes from and how to send it, or that there is none; never the
    token itself."""
    if not token:
        return (
            f"admin API: no admin token ({ADMIN_TOKEN_ENV} is not set), so the admin routes "
            "(/v1/admin/*, POST /v1/models/{id}/promote, POST /v1/retrain) answer 403; to use "
            f"them, export {ADMIN_TOKEN_ENV} before 'serve' and send "
            f"'Authorization: Bearer ${ADMIN_TOKEN_ENV}'"
        )
    return (
        f"admin API: the admin token is read from {ADMIN_TOKEN_ENV} (set; not shown); send it as "
        f"'Authorization: Bearer ${ADMIN_TOKEN_ENV}' from a shell where it is exported"
    )


def distribution_score_table(rows: list[AccuracyRow]) -> Table:
    """The served distribution per key, with garch_ref and the 30-day Gaussian on the rows below
    it (the same forecasts): CRPS, the served CRPS skill against each with its DM p-value,
    coverage and mean PIT."""
    table = Table(title="Served distribution beside its baselines (same forecasts)")
    for col in ("crypto_id", "model", "h", "distribution", "n", "CRPS", "served skill %"):
        table.add_column(
            col, justify="left" if col in ("crypto_id", "model", "distribution") else "right"
        )
    for col in ("DM p", "cov 80%", "cov 95%", "PIT mean"):
        table.add_column(col, justify="right")
    for r in rows:
        if not r.n_distribution:
            continue
        key = (r.crypto_id, r.model_type, str(r.horizon))
        table.add_row(
            *key, "served", str(r.n_distribution), num(r.crps, ".5f"), "", "",
            num(r.coverage_80, ".0%"), num(r.coverage_95, ".0%"), num(r.pit_mean, ".3f"),
        )  # fmt: skip
        for label, prefix in (
            ("baseline: garch_ref", "reference"),
            ("baseline: Gaussian 30d", "gaussian"),
        ):
            table.add_row(
                *key, label, str(r.n_distribution),
                num(getattr(r, f"crps_{prefix}"), ".5f"),
                num(getattr(r, f"crps_skill_vs_{prefix}_pct"), "+.2f"),
                num(getattr(r, f"dm_pvalue_vs_{prefix}"), ".3g"),
                num(getattr(r, f"{prefix}_coverage_80"), ".0%"),
                num(getattr(r, f"{prefix}_coverage_95"), ".0%"),
                num(getattr(r, f"{prefix}_pit_mean"), ".3f"),
            )  # fmt: skip
    return table


@ledger_app.command("score")
def ledger_score(
    crypto_id: Annotated[str | None, typer.Argument(help="Only this asset.")] = None,
    model_type: Annotated[
        str | None, typer.Option("--model", "-m", help="Only this model type.")
    ] = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", "-H", min=1, max=14, help="Only this horizon.")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Ledger database URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """Score past forecasts against realised closes: MAPE and MASE beside naive, interval coverage, and the served distribution's CRPS, coverage and PIT beside garch_ref and the 30-day Gaussian."""

    cid = resolve_asset(crypto_id).id if crypto_id else None
    ledger = Ledger(url)
    if model_type is not None:
        stored = sorted(set(ledger.forecasts()["model_type"]))
        if stored and model_type not in stored:
            close = difflib.get_close_matches(model_type, stored, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise typer.BadParameter(
                f"no forecasts from model {model_type!r} in the ledger; {hint}"
                f"stored: {', '.join(stored)}",
                param_hint="'--model'",
            )
    rows = ledger.score(crypto_id=cid, model_type=model_type, horizon=horizon)
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
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
    if any(r.n_distribution for r in rows):
        console().print(distribution_score_table(rows))
    for r in rows:
        if r.distribution_verdict:
            console().print(
                f"{r.crypto_id} {r.model_type} h={r.horizon}: served distribution "
                f"{r.distribution_verdict}",
                highlight=False,
            )
        if r.n_without_distribution:
            console().print(
                f"{r.crypto_id} {r.model_type} h={r.horizon} left out of the distribution scores: "
                f"{r.distribution_excluded_reason}",
                highlight=False,
            )
    for r in rows:
        if r.n_pending:
            console().print(
                f"{r.crypto_id} {r.model_type} h={r.horizon} pending: {r.pending_reason}",
                highlight=False,
            )
    if not rows:
        console().print(
            "No forecasts in the ledger match: they are recorded as the service answers requests."
            if len(ledger)
            else "No forecasts in the ledger yet: they are recorded as the service answers requests."
        )
    else:
        console().print(
            "MASE = MAE of the forecasts / MAE of the naive forecast (last close) on the same forecasts; below 1 beats naive."
        )
        if any(r.n_distribution for r in rows):
            console().print(
                "CRPS of the log return, lower is better; served skill % = 100 * (1 - served "
                "CRPS / baseline CRPS), positive beats that baseline; DM p: Diebold-Mariano on "
                "the per-forecast CRPS.",
                highlight=False,
            )
