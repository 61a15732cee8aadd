"""The ``cryptoforecast`` command line (Typer + Rich).

Errors print one clear line and exit 1 (2 for bad usage); ``--debug`` shows the traceback.
Command groups live here as thin adapters; the work is done by the library functions they call.
"""

from __future__ import annotations

import functools
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cryptoforecast.exceptions import CryptoForecastError

__all__ = ["app", "main"]

app = typer.Typer(
    name="cryptoforecast",
    help="Cryptocurrency price forecasts, always reported beside the naive forecast.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Market data: list, show and update candles.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(config_app, name="config")

_state = {"debug": False}


def console() -> Console:
    """A console that does not squeeze tables when output is not a terminal."""
    con = Console()
    if not con.is_terminal:
        con = Console(width=140)
    return con


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def version() -> None:
    """Print the package version."""
    from cryptoforecast import __version__

    typer.echo(f"cryptoforecast {__version__}")


@config_app.command("show")
def config_show(
    path: Annotated[str | None, typer.Option("--path", help="YAML config file to read.")] = None,
) -> None:
    """Print the effective configuration (defaults, file, environment)."""
    import yaml

    from cryptoforecast.config import load_config

    settings = load_config(path)
    typer.echo(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False).rstrip())


def asset_summary_table(interval: str = "1d") -> Table:
    """Rows, coverage, last close and 30-candle volatility for every embedded asset."""
    import numpy as np

    from cryptoforecast.data import load_ohlcv, snapshot_assets

    table = Table(title=f"Embedded market data ({interval})")
    for col in ("id", "symbol", "rows", "first", "last", "last close", "30d vol (ann.)"):
        table.add_column(col, justify="right" if col not in ("id", "symbol") else "left")
    for asset in snapshot_assets():
        df = load_ohlcv(asset.id, interval=interval)
        rets = np.log(df["close"]).diff().iloc[-30:]
        per_year = 365 if interval == "1d" else 365 * 6
        vol = float(rets.std() * np.sqrt(per_year))
        table.add_row(
            asset.id,
            asset.symbol,
            f"{len(df):,}",
            df.index[0].strftime("%Y-%m-%d"),
            df.index[-1].strftime("%Y-%m-%d %H:%M" if interval != "1d" else "%Y-%m-%d"),
            f"{df['close'].iloc[-1]:,.4f}",
            f"{vol:.1%}",
        )
    return table


@data_app.command("list")
def data_list(
    interval: Annotated[str, typer.Option("--interval", "-i", help="1d or 4h")] = "1d",
) -> None:
    """List the assets with their coverage in the embedded snapshot."""
    from cryptoforecast.data import ASSETS

    console().print(asset_summary_table(interval))
    others = [a.id for a in ASSETS if not a.in_snapshot]
    console().print(f"Live sources only (binance, coingecko): {', '.join(others)}")


@data_app.command("show")
def data_show(
    crypto_id: Annotated[str, typer.Argument(help="Asset id or symbol, e.g. bitcoin or BTC.")],
    days: Annotated[int, typer.Option("--days", "-n", help="How many candles.")] = 10,
    interval: Annotated[str, typer.Option("--interval", "-i")] = "1d",
    source: Annotated[str, typer.Option("--source", "-s")] = "snapshot",
    end: Annotated[str | None, typer.Option("--end", help="Last day to show (inclusive).")] = None,
    path: Annotated[str | None, typer.Option("--path", help="CSV file for --source csv.")] = None,
) -> None:
    """Show the last candles of one asset."""
    from cryptoforecast.data import load_ohlcv

    df = load_ohlcv(crypto_id, days=days, interval=interval, source=source, end=end, path=path)
    table = Table(title=f"{df.attrs.get('crypto_id', crypto_id)} {interval} ({source})")
    table.add_column("timestamp")
    for col in df.columns:
        table.add_column(col, justify="right")
    for ts, row in df.iterrows():
        table.add_row(str(ts), *(f"{v:,.6g}" for v in row))
    console().print(table)


@data_app.command("update")
def data_update(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Asset ids or symbols, e.g. bitcoin ETH.")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            "-s",
            help="binance or coingecko (default binance; with --all: every cached one).",
        ),
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option(
            "--interval", "-i", help="1d or 4h (default 1d; with --all: every cached one)."
        ),
    ] = None,
    all_series: Annotated[
        bool, typer.Option("--all", help="Update every cached live series.")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="Download the whole history again.")] = False,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="API root, e.g. https://api.binance.us.")
    ] = None,
) -> None:
    """Fetch new candles from a live source into the local cache (only what is missing)."""
    from rich.progress import Progress

    from cryptoforecast.data import CandleCache, resolve_asset
    from cryptoforecast.data.live import LIVE_SOURCE_NAMES, refresh_series
    from cryptoforecast.exceptions import DataError

    if source is not None and source not in LIVE_SOURCE_NAMES:
        raise DataError(f"--source must be one of {', '.join(LIVE_SOURCE_NAMES)}, got {source!r}")
    wanted = {resolve_asset(i).id for i in ids or []}
    if all_series:
        targets = [
            (src, cid, iv)
            for src, cid, iv in CandleCache().entries()
            if src in LIVE_SOURCE_NAMES
            and (source is None or src == source)
            and (interval is None or iv == interval)
            and (not wanted or cid in wanted)
        ]
        if not targets:
            console().print(
                "No cached live series to update; run e.g. `cryptoforecast data update bitcoin` first."
            )
            return
    elif wanted:
        targets = [
            (source or "binance", cid, interval or "1d")
            for cid in dict.fromkeys(resolve_asset(i).id for i in ids or [])
        ]
    else:
        raise typer.BadParameter("give asset ids (e.g. bitcoin ethereum) or --all")
    options: dict[str, Any] = {"base_url": base_url} if base_url else {}
    table = Table(title="Live data update")
    for col in ("source", "id", "interval", "rows", "last candle", "new"):
        table.add_column(col, justify="right" if col in ("rows", "new") else "left")
    failures: list[str] = []
    with Progress(console=console(), transient=True) as progress:
        task = progress.add_task("updating", total=len(targets))
        for src, cid, iv in targets:
            progress.update(task, description=f"{src} {cid} {iv}")
            try:
                result = refresh_series(resolve_asset(cid), iv, src, full=full, **options)
            except CryptoForecastError as exc:
                label, msg = f"{src} {cid} {iv}", str(exc)
                failures.append(msg if msg.startswith(label) else f"{label}: {msg}")
            else:
                last = result.frame.index[-1].strftime(
                    "%Y-%m-%d %H:%M" if iv != "1d" else "%Y-%m-%d"
                )
                table.add_row(src, cid, iv, f"{len(result.frame):,}", last, f"{result.added:+,}")
            progress.advance(task)
    if table.row_count:
        console().print(table)
    for line in failures:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]failed:[/] {line}", highlight=False)
    if failures:
        raise DataError(
            f"{len(failures)} of {len(targets)} series could not be updated (see above); the cache keeps their previous candles"
        )


registry_app = typer.Typer(
    help="Model registry: versions, stages and their history.", no_args_is_help=True
)
app.add_typer(registry_app, name="registry")


def _registry_table(records: list, title: str) -> Table:
    """One row per registered model; MASE is relative to the naive forecast (naive = 1.00)."""
    table = Table(title=title)
    for col in ("id", "crypto", "model", "h", "version", "status", "val MASE (naive=1)", "created"):
        table.add_column(
            col, justify="right" if col in ("id", "h", "val MASE (naive=1)") else "left"
        )
    for rec in records:
        mase = rec.validation_mase
        table.add_row(
            str(rec.model_id),
            rec.crypto_id,
            rec.model_type,
            str(rec.horizon),
            rec.version,
            rec.status,
            "-" if mase is None else f"{mase:.3f}",
            rec.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


@registry_app.command("list")
def registry_list(
    crypto_id: Annotated[
        str | None, typer.Option("--crypto", "-c", help="Only this asset.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Only this model type.")
    ] = None,
    horizon: Annotated[int | None, typer.Option("--horizon", help="Only this horizon.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="staging, production or archived.")
    ] = None,
) -> None:
    """List registered models."""
    from cryptoforecast.registry import model_registry

    records = model_registry.list_models(crypto_id, model, horizon, status)
    console().print(_registry_table(records, f"Registered models ({len(records)})"))


@registry_app.command("show")
def registry_show(
    model_id: Annotated[int, typer.Argument(help="Model id from `registry list`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full record as JSON.")] = False,
) -> None:
    """Show one model: metrics (beside the naive forecast's when stored), config, lineage, files."""
    import json

    from cryptoforecast.registry import model_registry

    rec = model_registry.get(model_id)
    if as_json:
        typer.echo(json.dumps(rec.to_dict(), indent=2, sort_keys=True))
        return
    console().print(_registry_table([rec], f"Model {rec.model_id}"))
    for title, value in (
        ("metrics", rec.metrics),
        ("config", rec.config),
        ("lineage", rec.lineage),
    ):
        console().print(f"[bold]{title}[/]: {json.dumps(value, sort_keys=True)}", highlight=False)
    n_files = len(rec.artifact_files)
    console().print(
        f"[bold]artifact[/]: {rec.artifact_path} ({n_files} files, sha256 recorded)",
        highlight=False,
    )


@registry_app.command("promote")
def registry_promote(
    model_id: Annotated[int, typer.Argument(help="Model id to put in production.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept in the history).")
    ] = "promoted from the CLI",
) -> None:
    """Promote a model to production; the previous production model is archived."""
    from cryptoforecast.registry import model_registry

    rec = model_registry.promote(model_id, reason=reason)
    what = f"{rec.crypto_id} {rec.model_type} h={rec.horizon} {rec.version}"
    typer.echo(f"model {rec.model_id} ({what}) is now production")


@registry_app.command("rollback")
def registry_rollback(
    crypto_id: Annotated[str, typer.Argument(help="Asset id, e.g. bitcoin.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model type, e.g. lightgbm.")],
    horizon: Annotated[int, typer.Option("--horizon", help="Forecast horizon in candles.")] = 1,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")] = "",
) -> None:
    """Put the previous production model back in production."""
    from cryptoforecast.registry import model_registry

    rec = model_registry.rollback(crypto_id, model, horizon, reason=reason)
    what = f"{rec.crypto_id} {rec.model_type} h={rec.horizon} {rec.version}"
    typer.echo(f"rolled back: model {rec.model_id} ({what}) is production again")


@registry_app.command("history")
def registry_history(
    crypto_id: Annotated[str, typer.Argument(help="Asset id, e.g. bitcoin.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Only this model type.")
    ] = None,
    horizon: Annotated[int | None, typer.Option("--horizon", help="Only this horizon.")] = None,
) -> None:
    """Every stage change and promotion-gate decision for an asset, oldest first."""
    from cryptoforecast.registry import model_registry

    events = model_registry.history(crypto_id, model, horizon)
    table = Table(title=f"Registry history: {crypto_id} ({len(events)} events)")
    for col in ("when (UTC)", "id", "model", "h", "version", "event", "from", "to", "reason", "by"):
        table.add_column(col)
    for ev in events:
        table.add_row(
            ev.at.strftime("%Y-%m-%d %H:%M:%S"),
            str(ev.model_id),
            ev.model_type,
            str(ev.horizon),
            ev.version or "",
            ev.event,
            ev.from_status or "-",
            ev.to_status,
            ev.reason,
            ev.actor,
        )
    console().print(table)


# -- training ------------------------------------------------------------------------------------
def _summary_table(summaries: list[dict], title: str) -> Table:
    """One row per training: validation MASE beside naive (naive = 1), the gate and its reason."""
    table = Table(title=title)
    for col in (
        "crypto",
        "model",
        "h",
        "id",
        "status",
        "val MASE (naive=1)",
        "MAE",
        "naive MAE",
        "DM p",
        "80% cov",
        "s",
        "note",
    ):
        table.add_column(
            col, justify="left" if col in ("crypto", "model", "status", "note") else "right"
        )

    def num(value: object, fmt: str) -> str:
        return "-" if not isinstance(value, int | float) or value != value else format(value, fmt)

    for s in summaries:
        m = s.get("metrics") or {}
        table.add_row(
            str(s.get("crypto_id")),
            str(s.get("model_type")),
            str(s.get("horizon")),
            str(s.get("model_id") or "-"),
            str(s.get("status") or ("failed" if s.get("error") else "-")),
            num(m.get("mase"), ".3f"),
            num(m.get("mae"), ",.2f"),
            num(m.get("naive_mae"), ",.2f"),
            num(m.get("dm_pvalue"), ".3f"),
            num(m.get("coverage_80"), ".0%"),
            num(s.get("seconds"), ".1f"),
            str(s.get("error") or s.get("gate_reason") or ""),
        )
    return table


@app.command()
def train(
    crypto_ids: Annotated[
        list[str] | None, typer.Argument(help="Asset ids or symbols, e.g. bitcoin ETH.")
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Model type (repeatable); default lightgbm."),
    ] = None,
    horizon: Annotated[
        list[int] | None,
        typer.Option("--horizon", "-h", help="Horizon in days (repeatable); default 1."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", "-d", help="Training window in candles (default: training.days)."),
    ] = None,
    tune: Annotated[
        int, typer.Option("--tune", help="Optuna trials before training (0: config parameters).")
    ] = 0,
    source: Annotated[
        str, typer.Option("--source", "-s", help="snapshot, binance or coingecko.")
    ] = "snapshot",
    end: Annotated[
        str | None, typer.Option("--end", help="Last day of the training window.")
    ] = None,
    all_assets: Annotated[bool, typer.Option("--all", help="Train every embedded asset.")] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address, e.g. tcp://host:8786 (with --all or several jobs; default: a local cluster).",
        ),
    ] = None,
    no_save: Annotated[
        bool, typer.Option("--no-save", help="Validate only: do not save or register.")
    ] = False,
) -> None:
    """Train, validate against naive, register and gate models (one, or many on Dask)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cryptoforecast.config import load_config
    from cryptoforecast.data import resolve_asset, snapshot_assets
    from cryptoforecast.training.distributed import summarise_model, train_many

    settings = load_config()
    if all_assets:
        ids = [a.id for a in snapshot_assets()]
    elif crypto_ids:
        ids = list(dict.fromkeys(resolve_asset(c).id for c in crypto_ids))
    else:
        raise typer.BadParameter("give asset ids (e.g. bitcoin) or --all")
    models = model or ["lightgbm"]
    horizons = horizon or [1]
    window = days or settings.training.days
    jobs = len(ids) * len(models) * len(horizons)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    if jobs == 1 and scheduler is None:
        import asyncio
        import time

        from cryptoforecast.training.train_pipeline import train_model_for_crypto

        with Progress(*columns, console=console(), transient=True) as progress:
            progress.add_task(
                f"training {models[0]} for {ids[0]} h={horizons[0]} on {window} days", total=1
            )
            started = time.perf_counter()
            fitted = asyncio.run(
                train_model_for_crypto(
                    ids[0],
                    models[0],
                    days=window,
                    save_model=not no_save,
                    horizon=horizons[0],
                    tune=tune,
                    source=source,
                    end=end,
                    config=settings,
                )
            )
        summaries = [
            {
                "crypto_id": ids[0],
                "model_type": models[0],
                "horizon": horizons[0],
                **summarise_model(fitted),
                "seconds": time.perf_counter() - started,
            }
        ]
    else:
        with Progress(*columns, console=console(), transient=True) as progress:
            task = progress.add_task(f"training {jobs} models", total=jobs)

            def advance(summary: dict) -> None:
                progress.advance(task)
                progress.console.print(
                    f"  {summary['crypto_id']} {summary['model_type']} h={summary['horizon']}: "
                    f"{summary.get('status') or 'failed'}",
                    highlight=False,
                )

            summaries = train_many(
                ids,
                models,
                horizons,
                scheduler=scheduler,
                days=window,
                tune=tune,
                source=source,
                end=end,
                config=settings,
                save_model=not no_save,
                progress=advance,
            )
    console().print(
        _summary_table(
            summaries, "Training: validation beside the naive forecast (MASE < 1 beats naive)"
        )
    )
    failed = [s for s in summaries if s.get("error")]
    if failed:
        from cryptoforecast.exceptions import DataError

        raise DataError(f"{len(failed)} of {len(summaries)} trainings failed: {failed[0]['error']}")


@app.command()
def retrain(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Retrain keys whose newest model is older than this (7d, 12h, 2w); default retrain.older_than_days.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address, or 'local' for a local cluster (default: one after another).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be retrained.")
    ] = False,
) -> None:
    """Retrain every tracked model that is too old, through the same promotion gate."""
    from cryptoforecast.training.retrain import retrain_stale

    with console().status("retraining stale models"):
        summaries = retrain_stale(older_than, scheduler=scheduler, dry_run=dry_run)
    if not summaries:
        console().print("Nothing to retrain: every tracked model is recent enough.")
        return
    if dry_run:
        table = Table(title=f"Would retrain {len(summaries)} model(s)")
        for col in ("crypto", "model", "h", "newest id", "version", "age (days)", "days", "source"):
            table.add_column(col)
        for s in summaries:
            table.add_row(
                s["crypto_id"],
                s["model_type"],
                str(s["horizon"]),
                str(s["newest_model_id"]),
                s["newest_version"],
                f"{s['age_days']:.1f}",
                str(s["days"] or "-"),
                s["source"],
            )
        console().print(table)
        return
    console().print(_summary_table(summaries, f"Retrained {len(summaries)} model(s)"))
    failed = [s for s in summaries if s.get("error")]
    if failed:
        from cryptoforecast.exceptions import DataError

        raise DataError(
            f"{len(failed)} of {len(summaries)} retrainings failed: {failed[0]['error']}"
        )


@app.command()
def demo(
    fast: Annotated[
        bool, typer.Option("--fast", help="Tiny settings: a smoke run in seconds, not a result.")
    ] = False,
) -> None:
    """The real thing on the embedded data: train, backtest vs naive, gate, report, forecast."""
    from cryptoforecast.training.demo import run_demo

    run_demo(console=console(), fast=fast)


# -- backtest ------------------------------------------------------------------------------------
def _backtest_table(runs: list, title: str) -> Table:
    """Key metrics per model with naive's on the same origins (last column)."""
    table = Table(title=title)
    table.add_column("metric")
    for run in runs:
        table.add_column(run.name, justify="right")
    table.add_column("baseline: naive", justify="right")
    rows = (
        ("MAE", "mae", ",.2f"),
        ("MAPE %", "mape", ".2f"),
        ("MASE (naive=1)", "mase", ".3f"),
        ("R2 log returns", "r2_logret", ".3f"),
        ("directional acc.", "directional_accuracy", ".1%"),
        ("80% coverage", "coverage_80", ".1%"),
        ("long/flat return", "long_flat_total_return", "+.1%"),
        ("long/flat Sharpe", "long_flat_sharpe", ".2f"),
    )

    def num(value: object, fmt: str) -> str:
        return "-" if not isinstance(value, int | float) or value != value else format(value, fmt)

    for label, key, fmt in rows:
        table.add_row(
            label,
            *(num(r.metrics["model"].get(key), fmt) for r in runs),
            num(runs[0].metrics["naive"].get(key), fmt),
        )
    table.add_row("DM p-value", *(num(r.metrics.get("dm_pvalue"), ".3g") for r in runs), "")
    bh = runs[0].metrics.get("buy_and_hold", {}).get("total_return")
    table.add_row("buy-and-hold return", *("" for _ in runs), num(bh, "+.1%"))
    return table


def _advance(progress: Any, task: Any, done: int, total: int) -> None:
    """Progress callback for the backtester: move a Rich task to ``done`` of ``total``."""
    progress.update(task, completed=done, total=total)


@app.command()
def backtest(
    crypto_id: Annotated[str, typer.Argument(help="Asset id or symbol, e.g. bitcoin.")],
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Model type (repeatable: compare models in one report); default lightgbm. naive, drift, technical, lightgbm, xgboost, lstm, ensemble.",
        ),
    ] = None,
    horizon: Annotated[
        int, typer.Option("--horizon", "-h", min=1, help="Forecast horizon in candles.")
    ] = 1,
    report: Annotated[
        str | None, typer.Option("--report", "-r", help="Write a self-contained HTML report here.")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            "-d",
            min=1,
            help="Forecast origins to backtest: the last N (default demo.backtest_days).",
        ),
    ] = None,
    initial_train_size: Annotated[
        int | None,
        typer.Option(
            "--initial-train-size",
            min=1,
            help="Minimum training rows of the first fit (default backtest.initial_train_size); earlier rows are used too with an expanding window.",
        ),
    ] = None,
    retrain_frequency: Annotated[
        int | None,
        typer.Option(
            "--retrain-frequency",
            min=1,
            help="Refit every N origins (default backtest.retrain_frequency).",
        ),
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="expanding or sliding (default backtest.window).")
    ] = None,
    source: Annotated[
        str, typer.Option("--source", "-s", help="snapshot, binance or coingecko.")
    ] = "snapshot",
    end: Annotated[str | None, typer.Option("--end", help="Last candle to use.")] = None,
    fee_bps: Annotated[
        float, typer.Option("--fee-bps", min=0.0, help="Trading fee per unit traded, basis points.")
    ] = 10.0,
    intervals: Annotated[
        str,
        typer.Option(
            "--intervals",
            help="Interval calibration: split (each model's static conformal band) or aci (adaptive conformal, updated with every error known at the origin).",
        ),
    ] = "split",
) -> None:
    """Walk-forward backtest beside the naive forecast, with the honesty scorecard and an HTML report."""
    import inspect

    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cryptoforecast.config import load_config
    from cryptoforecast.data import load_ohlcv, resolve_asset
    from cryptoforecast.evaluation.report import BacktestRun, write_report
    from cryptoforecast.evaluation.scorecard import scorecard_table, verdict
    from cryptoforecast.features import warmup_rows
    from cryptoforecast.models import model_class
    from cryptoforecast.training.backtester import ForecastBacktester, trainer_for

    settings = load_config()
    cfg = settings.backtest
    asset = resolve_asset(crypto_id)
    models = list(dict.fromkeys(model or ["lightgbm"]))
    n_origins = days or settings.demo.backtest_days
    initial = initial_train_size or cfg.initial_train_size
    refit = retrain_frequency or cfg.retrain_frequency
    win = window or cfg.window
    if win not in ("expanding", "sliding"):
        raise typer.BadParameter(f"--window must be expanding or sliding, got {win!r}")
    if intervals not in ("split", "aci"):
        raise typer.BadParameter(f"--intervals must be split or aci, got {intervals!r}")
    trainers = {}
    for name in models:  # unknown names fail before any data is loaded
        accepted = inspect.signature(model_class(name)).parameters
        params = {
            k: v for k, v in settings.model_params(name).items() if k in accepted and k != "horizon"
        }
        trainers[name] = trainer_for(name, horizon, **params)
    load_days = (
        None if source == "snapshot" else warmup_rows() + initial + 2 * horizon + n_origins + 1
    )
    candles = load_ohlcv(asset.id, days=load_days, source=source, end=end)
    runs = []
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} origins"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console(), transient=True) as progress:
        for name in models:
            task = progress.add_task(f"{name} h={horizon}", total=n_origins)
            bt = ForecastBacktester(
                initial_train_size=initial,
                test_size=cfg.test_size,
                step_size=cfg.step_size,
                retrain_frequency=refit,
                horizon=horizon,
                window=win,  # type: ignore[arg-type]
                interval_coverage=tuple(cfg.interval_coverage),
                test_origins=n_origins,
                fee_bps=fee_bps,
                interval_method=intervals,  # type: ignore[arg-type]
            )
            bt.run_walk_forward_validation(
                candles,
                trainers[name],
                progress=functools.partial(_advance, progress, task),
            )
            runs.append(BacktestRun.from_backtester(name, bt))
    first = runs[0].metrics
    title = (
        f"{asset.id} h={horizon}: {first['n_forecasts']} origins {first['start'][:10]} .. "
        f"{first['end'][:10]}, refit every {refit}, {intervals} intervals"
    )
    con = console()
    con.print(_backtest_table(runs, title))
    for run in runs:
        con.print(scorecard_table(run.metrics, title=f"Honesty scorecard: {run.name}"))
    for run in runs:
        con.print(verdict(run.metrics), highlight=False)
    if report:
        settings_shown = {
            "asset": asset.id,
            "source": source,
            "window": win,
            "initial train size": initial,
            "retrain every": refit,
            "fee (bps)": fee_bps,
            "intervals": intervals,
        }
        path = write_report(
            report,
            runs,
            title=f"{asset.id}: backtest h={horizon} ({', '.join(models)})",
            settings=settings_shown,
        )
        con.print(f"report written to {path}", highlight=False)


# -- serving -------------------------------------------------------------------------------------
ledger_app = typer.Typer(
    help="The forecast ledger: live, out-of-sample accuracy.", no_args_is_help=True
)
app.add_typer(ledger_app, name="ledger")


@app.command()
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
    """Serve forecasts over HTTP (FastAPI + uvicorn); OpenAPI at /docs, metrics at /metrics."""
    import uvicorn

    from cryptoforecast.config import load_config
    from cryptoforecast.serving.app import create_app

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
    from cryptoforecast.data import resolve_asset
    from cryptoforecast.serving.ledger import Ledger

    cid = resolve_asset(crypto_id).id if crypto_id else None
    ledger = Ledger(url)
    rows = ledger.score(crypto_id=cid, model_type=model_type, horizon=horizon)
    table = Table(title=f"Forecast ledger ({ledger.url})")
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

    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    for r in rows:
        table.add_row(
            r.crypto_id,
            r.model_type,
            str(r.horizon),
            str(r.n_forecasts),
            str(r.n_scored),
            str(r.n_pending),
            fmt(r.mape, ".3f"),
            fmt(r.naive_mape, ".3f"),
            fmt(r.mase, ".3f"),
            fmt(r.coverage_80, ".0%"),
            fmt(r.coverage_95, ".0%"),
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


@app.command("check-leakage")
def check_leakage(
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help="Your feature function as module:function or file.py:function (default: the built-in features).",
        ),
    ] = None,
    assets: Annotated[
        list[str] | None,
        typer.Option(
            "--asset", "-a", help="Asset id; repeat for several (default: every embedded asset)."
        ),
    ] = None,
    interval: Annotated[str, typer.Option("--interval", "-i", help="1d or 4h")] = "1d",
    cuts: Annotated[int, typer.Option("--cuts", help="Random cut points per asset.")] = 50,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    market: Annotated[
        str | None,
        typer.Option("--market", help="Pass this asset's candles as market= (e.g. bitcoin)."),
    ] = None,
) -> None:
    """Prove features never look ahead: recompute them on truncated history and compare."""
    from cryptoforecast.data import load_ohlcv, snapshot_assets
    from cryptoforecast.exceptions import FeatureError
    from cryptoforecast.features import build_features, check_lookahead
    from cryptoforecast.features.leakage import load_feature_function

    fn = load_feature_function(features) if features else build_features
    market_df = load_ohlcv(market, interval=interval) if market else None
    ids = assets or [a.id for a in snapshot_assets()]
    table = Table(title=f"Look-ahead check ({features or 'built-in features'}, {interval})")
    for col in ("asset", "rows", "features", "cuts", "leaks", "first leak"):
        table.add_column(col, justify="left" if col in ("asset", "first leak") else "right")
    failed = []
    for crypto_id in ids:
        report = check_lookahead(
            fn, load_ohlcv(crypto_id, interval=interval), n_cuts=cuts, seed=seed, market=market_df
        )
        first = str(report.leaks[0]) if report.leaks else "-"
        table.add_row(
            crypto_id,
            f"{report.n_rows:,}",
            str(len(report.features)),
            str(len(report.cuts)),
            str(len(report.leaks)),
            first,
        )
        if not report.ok:
            failed.append((crypto_id, report))
    console().print(table)
    for crypto_id, report in failed:
        console().print(f"[bold]{crypto_id}[/]: {report.summary()}", highlight=False)
    if failed:
        names = sorted({n for _, r in failed for n in r.leaky_features})
        raise FeatureError(
            f"look-ahead found in {len(names)} feature(s) on {len(failed)} asset(s): {', '.join(names[:10])}; "
            "each row must use only candles up to and including its own timestamp"
        )
    console().print("No look-ahead found.")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: one clear line per error, exit 1 (2 for usage errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=False)
    except CryptoForecastError as exc:
        if debug:
            raise
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        Console(stderr=True).print("aborted")
        return 1
    except Exception as exc:  # click usage errors and anything unexpected
        usage = getattr(exc, "exit_code", None) == 2 and hasattr(exc, "show")
        if usage or type(exc).__name__ in (
            "UsageError",
            "NoSuchOption",
            "BadParameter",
            "MissingParameter",
        ):
            exc.show()  # type: ignore[attr-defined]
            return 2
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if debug:
            raise
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]error:[/] {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            highlight=False,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
