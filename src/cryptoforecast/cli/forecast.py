"""``cryptoforecast forecast``: the production model's forecast (or the labelled fallback)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.box import SIMPLE_HEAD
from rich.table import Table

from cryptoforecast.assets import file_asset, resolve_asset
from cryptoforecast.cli._common import (
    CandlePathOption,
    check_candle_path,
    console,
    error_console,
    num,
    speaking_flags,
)
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.data.live import companion_intervals, refresh_series
from cryptoforecast.data.loader import LIVE_SOURCES
from cryptoforecast.data.times import parse_time
from cryptoforecast.exceptions import CryptoForecastError, DataError
from cryptoforecast.models import load_plugins
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.schemas import Forecast

__all__ = ["forecast", "forecast_table", "quantile_table"]


def quantile_table(forecasts: list[Forecast]) -> Table:
    """Every price quantile of each forecast's predictive distribution (``--quantiles``)."""
    levels = sorted({float(q) for f in forecasts for q in (f.quantiles or {})})
    table = Table(title="Predictive distribution: price quantiles", box=SIMPLE_HEAD)
    for col in ["crypto", "h", *[f"{q:.1%}".replace(".0%", "%") for q in levels]]:
        table.add_column(col, justify="left" if col == "crypto" else "right")
    for f in forecasts:
        table.add_row(
            f.crypto_id, str(f.horizon), *[_price((f.quantiles or {}).get(q)) for q in levels]
        )
    return table


def _price(value: float | None) -> str:
    """A price as wide as it needs: no cents on large prices, 4 significant digits on small."""
    if value is None or value != value:
        return "-"
    return format(value, ",.0f" if abs(value) >= 1000 else ",.2f" if abs(value) >= 1 else ".4g")


def _band(f: Forecast, coverage: float) -> str:
    if coverage not in f.intervals:
        return "-"
    lo, hi = f.intervals[coverage]
    return f"{_price(lo)}-{_price(hi)}"


def _when(f: Forecast) -> str:
    return f.as_of.strftime("%Y-%m-%d" if f.interval == "1d" else "%Y-%m-%d %H:%M")


def forecast_table(forecasts: list[Forecast]) -> Table:
    """One row per forecast: the naive forecast (last close) beside the forecast's one
    predictive distribution (its median, its 80%/95% intervals, direction, P(up) marked ``=``
    when it is only the base rate, P(|move| > x)), where it came from, and whether its candles
    are stale (reasons are printed below it)."""
    table = Table(
        title="Forecasts beside the naive forecast (the last close)",
        box=SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    moves = sorted({float(t) for f in forecasts for t in (f.p_move or {})})
    cols = ["crypto", "h", "as of", "naive", "median", "change", "80%", "95%", "direction"]
    cols += ["P(up)"] if any(f.p_up is not None for f in forecasts) else []
    cols += [f"P±{t:.0%}" for t in moves] + ["from", "stale"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("crypto", "from") else "right")
    for f in forecasts:
        row = [
            f.crypto_id,
            str(f.horizon),
            _when(f),
            _price(f.last_close),
            _price(f.predicted_price),
            num(f.predicted_price / f.last_close - 1.0, "+.2%"),
            _band(f, 0.8),
            _band(f, 0.95),
            f.direction,
        ]
        if "P(up)" in cols:
            row += [num(f.p_up, ".0%") + ("=" if f.p_up_is_base_rate else "")]
        row += [num((f.p_move or {}).get(t), ".0%") for t in moves]
        if f.source == "model":
            origin = f"{f.model_type} v{f.model_version}" if f.model_version else f.model_type
        else:
            origin = "fallback*"
        row += [origin, "yes*" if f.stale else "no"]
        table.add_row(*row)
    return table


def _notes(forecasts: list[Forecast]) -> list[str]:
    """The fallback and staleness reasons behind the table's asterisks, each said once."""
    notes: dict[str, None] = {}
    if any(f.p_up is not None for f in forecasts):
        notes[
            "P(up): probability the close ends higher; P±x: probability it moves more than x "
            "either way; median, intervals and both from one predictive distribution"
        ] = None
    if any(f.p_up_is_base_rate for f in forecasts):
        notes[
            "P(up)=: within 2 points of the base rate (what the distribution's shape alone "
            "gives): it says nothing about the direction, shown as flat"
        ] = None
    for f in forecasts:
        if f.fallback_reason:
            notes[f"fallback* {f.crypto_id}: technical analysis, because {f.fallback_reason}"] = (
                None
            )
        if f.distribution_source and f.distribution_source != "model":
            notes[f"distribution {f.crypto_id}: scale from {f.distribution_source}"] = None
        if f.no_distribution_reason:
            notes[f"no distribution {f.crypto_id} h={f.horizon}: {f.no_distribution_reason}"] = None
        if f.stale_reason:
            notes[f"stale* {f.crypto_id}: {f.stale_reason}"] = None
    return list(notes)


def forecast(
    crypto_ids: Annotated[
        list[str], typer.Argument(help="Asset ids or symbols, e.g. bitcoin ETH.")
    ],
    horizon: Annotated[
        list[int] | None,
        typer.Option("--horizon", "-H", help="Candles ahead, 1 to 14 (repeatable); default 1."),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            "-s",
            help="Candle source: snapshot, csv (a coin from `data import`, or --path FILE), "
            "binance or coingecko.",
        ),
    ] = "snapshot",
    path: CandlePathOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    quantiles: Annotated[
        bool,
        typer.Option(
            "--quantiles", help="Show every quantile of the distribution, not the median."
        ),
    ] = False,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh/--no-refresh",
            help="Live sources: fetch new candles into the cache first (default: yes).",
        ),
    ] = True,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Forecast from what was known then. A date (2025-01-01) means that day's "
            "close; a date-time (2025-01-01T12:00, UTC unless it ends in Z or an offset such "
            "as +02:00) means the last candle closed at or before it (a 1d candle dated D "
            "closes at D+1 00:00 UTC). Such a back-dated forecast is not recorded in the "
            "ledger. Default: the latest candle.",
        ),
    ] = None,
) -> None:
    """Forecast from the production model (or the labelled fallback), with 80%/95% intervals.

    Each forecast says its last candle (as of) and whether that candle is stale."""

    check_candle_path(source, path)
    resolve = file_asset if path is not None else resolve_asset
    ids = list(dict.fromkeys(resolve(c).id for c in crypto_ids))  # bad ids fail first
    if path is not None and len(ids) > 1:
        raise DataError(
            f"--path is one coin's file, but {len(ids)} coins were given ({', '.join(ids)}); "
            "forecast one coin per file, or import each (`cryptoforecast data import COIN FILE`)"
        )
    if path is not None:  # a missing or bad file fails once, before any forecast
        with speaking_flags({"path": "--path"}):
            load_ohlcv(ids[0], source="csv", path=path)
    horizons = list(dict.fromkeys(horizon or [1]))
    for h in horizons:
        Predictor.check_horizon(h)
    if as_of is not None:
        parse_time(as_of, "--as-of")  # before any work: the API's rules, the flag's name
    settings = load_config()
    load_plugins(settings)  # before any forecast: a plug-in's model is loaded like a built-in's
    predictor = Predictor(
        source=source,
        cache_ttl=0,
        stale_grace_seconds=settings.serving.stale_grace_seconds,
        path=path,
        record=path is None,  # the ledger could never score a one-off file: nothing reads it again
    )
    forecasts: list[Forecast] = []
    errors: list[dict[str, Any]] = []
    if refresh and source in LIVE_SOURCES:
        # the 4h candles first (where the source has them): a distribution fitted on them
        # serves only from 4h candles that reach the daily close
        intervals = (*companion_intervals(source, predictor.interval), predictor.interval)
        for cid in ids:
            for iv in intervals:
                try:
                    refresh_series(resolve_asset(cid), iv, source)
                except CryptoForecastError as exc:  # forecast from the cache; it is labelled
                    name = cid if iv == predictor.interval else f"{cid} {iv}"
                    error_console().print(
                        f"[yellow]could not refresh {name}:[/] {exc}", highlight=False
                    )
    for cid in ids:
        for h in horizons:
            try:
                forecasts.append(predictor.predict(cid, horizon=h, as_of=as_of))
            except CryptoForecastError as exc:
                errors.append({"crypto_id": cid, "horizon": h, "error": str(exc)})
    if as_json:
        payload = {
            # pydantic's JSON: a number that is not finite (never served) would be null, so the
            # output stays JSON whatever a forecast holds
            "forecasts": [json.loads(f.model_dump_json()) for f in forecasts],
            "errors": errors,
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        if forecasts:
            console().print(forecast_table(forecasts))
            if quantiles:
                console().print(quantile_table(forecasts))
        for note in _notes(forecasts):
            console().print(note, highlight=False)
        for e in errors:
            error_console().print(
                f"[red]no forecast:[/] {e['crypto_id']} h={e['horizon']}: {e['error']}",
                highlight=False,
            )
    if not forecasts:
        raise DataError(
            f"nothing could forecast {', '.join(ids)} (h={', '.join(map(str, horizons))}) from "
            f"source {source!r}: {errors[0]['error'] if errors else 'no result'}"
        )
