"""``cryptoforecast data``: list, show and update candles."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import Progress
from rich.table import Table

from cryptoforecast.cli._common import console, error_console
from cryptoforecast.data import ASSETS, CandleCache, load_ohlcv, resolve_asset, snapshot_assets
from cryptoforecast.data.live import LIVE_SOURCE_NAMES, refresh_series
from cryptoforecast.exceptions import CryptoForecastError, DataError

__all__ = ["asset_summary_table", "data_app"]

data_app = typer.Typer(help="Market data: list, show and update candles.", no_args_is_help=True)


def asset_summary_table(interval: str = "1d") -> Table:
    """Rows, coverage, last close and 30-candle volatility for every embedded asset."""

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
        error_console().print(f"[bold red]failed:[/] {line}", highlight=False)
    if failures:
        raise DataError(
            f"{len(failures)} of {len(targets)} series could not be updated (see above); the cache keeps their previous candles"
        )
