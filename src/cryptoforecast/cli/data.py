"""``cryptoforecast data``: list, show, import and update candles."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.progress import Progress
from rich.table import Table

from cryptoforecast.assets import ASSETS, resolve_asset, snapshot_assets
from cryptoforecast.catalogue import read_catalogue
from cryptoforecast.cli._common import (
    HELP,
    console,
    echo_json,
    error_console,
    speaking_flags,
)
from cryptoforecast.cli._end import check_end
from cryptoforecast.config import MAX_WINDOW_CANDLES
from cryptoforecast.data import FILE_SOURCE, CandleCache, import_coin, load_ohlcv
from cryptoforecast.data.live import LIVE_SOURCE_NAMES, companion_intervals, refresh_series
from cryptoforecast.data.schema import check_interval
from cryptoforecast.exceptions import CryptoForecastError, DataError

__all__ = ["asset_summaries", "asset_summary_table", "data_app"]

data_app = typer.Typer(
    help="Market data: list, show, import and update candles.",
    no_args_is_help=True,
    context_settings=HELP,
)


def asset_summaries(interval: str = "1d") -> list[dict[str, Any]]:
    """Rows, coverage, last close and 30-candle volatility for every embedded asset."""

    rows = []
    for asset in snapshot_assets():
        df = load_ohlcv(asset.id, interval=interval)
        rets = np.log(df["close"]).diff().iloc[-30:]
        per_year = 365 if interval == "1d" else 365 * 6
        rows.append(
            {
                "id": asset.id,
                "symbol": asset.symbol,
                "rows": len(df),
                "first": df.index[0].isoformat(),
                "last": df.index[-1].isoformat(),
                "last_close": float(df["close"].iloc[-1]),
                "vol_30d_annualised": float(rets.std() * np.sqrt(per_year)),
            }
        )
    return rows


def asset_summary_table(interval: str = "1d") -> Table:
    """:func:`asset_summaries` as a table."""

    table = Table(title=f"Embedded market data ({interval})")
    for col in ("id", "symbol", "rows", "first", "last", "last close", "30d vol (ann.)"):
        table.add_column(col, justify="right" if col not in ("id", "symbol") else "left")
    for row in asset_summaries(interval):
        first, last = pd.Timestamp(row["first"]), pd.Timestamp(row["last"])
        table.add_row(
            row["id"],
            row["symbol"],
            f"{row['rows']:,}",
            first.strftime("%Y-%m-%d"),
            last.strftime("%Y-%m-%d %H:%M" if interval != "1d" else "%Y-%m-%d"),
            f"{row['last_close']:,.4f}",
            f"{row['vol_30d_annualised']:.1%}",
        )
    return table


def user_coin_rows() -> list[dict[str, Any]]:
    """One row per imported coin and interval: its source (csv), candles and coverage."""
    rows = []
    for coin in read_catalogue().coins.values():
        for iv, info in sorted(coin.intervals.items()):
            rows.append(
                {
                    "id": coin.id,
                    "symbol": coin.symbol,
                    "name": coin.name,
                    "source": FILE_SOURCE,
                    "interval": iv,
                    "rows": info.rows,
                    "first": info.first.isoformat(),
                    "last": info.last.isoformat(),
                    "imported_at": coin.imported_at.isoformat(),
                }
            )
    return rows


@data_app.command("list")
def data_list(
    interval: Annotated[str, typer.Option("--interval", "-i", help="1d or 4h")] = "1d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """List the assets with their coverage in the embedded snapshot, and the imported coins."""

    others = [a.id for a in ASSETS if not a.in_snapshot]
    imported = user_coin_rows()
    with speaking_flags({"interval": "--interval"}):
        if as_json:
            echo_json(
                {"snapshot": asset_summaries(interval), "live_only": others, "imported": imported}
            )
            return
        console().print(asset_summary_table(interval))
    console().print(
        f"Live sources only (binance, coingecko; or import a file with `data import`): "
        f"{', '.join(others)}"
    )
    if imported:
        out = Table(title="Imported coins (source csv: `--source csv`)")
        for col in ("id", "symbol", "source", "interval", "rows", "first", "last"):
            out.add_column(col, justify="right" if col == "rows" else "left")
        for row in imported:
            out.add_row(
                row["id"],
                row["symbol"],
                row["source"],
                row["interval"],
                f"{row['rows']:,}",
                row["first"][:16].replace("T", " "),
                row["last"][:16].replace("T", " "),
            )
        console().print(out)


@data_app.command("import")
def data_import(
    crypto_id: Annotated[
        str, typer.Argument(help="The coin's id, a lower-case name of your choice, e.g. mycoin.")
    ],
    file: Annotated[
        str, typer.Argument(help="CSV of candles: open_time (ISO 8601 UTC or epoch ms), OHLCV.")
    ],
    interval: Annotated[str, typer.Option("--interval", "-i", help="1d or 4h.")] = "1d",
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="Its symbol (default: the id in capitals).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Its name (default: the id).")] = None,
) -> None:
    """Import a coin's candles from a CSV file: validated, cached and catalogued.

    Later commands (`--source csv`) and the service then know the coin without the file. A bad
    file changes nothing; a new import replaces the coin's candles of that interval."""

    with speaking_flags({"interval": "--interval", "symbol": "--symbol"}):
        done = import_coin(crypto_id, file, interval=interval, symbol=symbol, name=name)
    info = done.coin.intervals[done.interval]
    verb = "replaced" if done.replaced else "imported"
    console().print(
        f"{verb} {info.rows:,} {done.interval} candles of {done.coin.id} ({done.coin.symbol}), "
        f"{info.first:%Y-%m-%d %H:%M} to {info.last:%Y-%m-%d %H:%M} UTC; use it with "
        f"`--source csv`, e.g. `cryptoforecast forecast {done.coin.id} --source csv`",
        highlight=False,
    )


@data_app.command("show")
def data_show(
    crypto_id: Annotated[str, typer.Argument(help="Asset id or symbol, e.g. bitcoin or BTC.")],
    days: Annotated[
        int, typer.Option("--days", "-n", min=1, max=MAX_WINDOW_CANDLES, help="How many candles.")
    ] = 10,
    interval: Annotated[str, typer.Option("--interval", "-i", help="1d or 4h.")] = "1d",
    source: Annotated[
        str, typer.Option("--source", "-s", help="snapshot, csv, binance or coingecko.")
    ] = "snapshot",
    end: Annotated[str | None, typer.Option("--end", help="Last day to show (inclusive).")] = None,
    path: Annotated[str | None, typer.Option("--path", help="CSV file for --source csv.")] = None,
) -> None:
    """Show the last candles of one asset."""

    flags = {"interval": "--interval", "source": "--source", "end": "--end", "path": "--path"}
    with speaking_flags(flags):
        df = load_ohlcv(crypto_id, days=days, interval=interval, source=source, end=end, path=path)
    check_end(end, df.index[-1] if source == "snapshot" else None, source)
    table = Table(title=f"{df.attrs.get('crypto_id', crypto_id)} {interval} ({source})")
    table.add_column("timestamp")
    for col in df.columns:
        table.add_column(col, justify="right")
    for ts, row in df.iterrows():
        table.add_row(str(ts), *(f"{v:,.6g}" for v in row))
    console().print(table)


def _with_companions(targets: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """``targets`` with each daily series preceded by the series kept beside it (its 4h
    candles, where the source has them), each once: a new daily candle is never cached beside
    4h candles that stop before its close."""
    out: dict[tuple[str, str, str], None] = {}
    for src, cid, iv in targets:
        for extra in companion_intervals(src, iv):
            out[(src, cid, extra)] = None
        out[(src, cid, iv)] = None
    return list(out)


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
    """Fetch new candles from a live source into the local cache (only what is missing).

    Without --interval, a coin's daily candles come with its 4h candles where the source has
    them (Binance; CoinGecko has daily closes only), as the service's refresher keeps them: the
    distributions fitted on 4h candles serve from them."""

    if source is not None and source not in LIVE_SOURCE_NAMES:
        raise DataError(f"--source must be one of {', '.join(LIVE_SOURCE_NAMES)}, got {source!r}")
    if interval is not None:
        with speaking_flags({"interval": "--interval"}):
            check_interval(interval)
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise DataError(
            f"--base-url must start with https:// (or http://), got {base_url!r}; "
            "e.g. --base-url https://api.binance.us"
        )
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
    if interval is None:  # the 4h candles beside each daily series, where the source has them
        targets = _with_companions(targets)
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
