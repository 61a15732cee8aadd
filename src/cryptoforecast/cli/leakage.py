"""``cryptoforecast check-leakage``: prove that features never look ahead."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.cli._common import console
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import FeatureError
from cryptoforecast.features import build_features, check_lookahead
from cryptoforecast.features.leakage import load_feature_function

__all__ = ["check_leakage"]


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
    cuts: Annotated[
        int, typer.Option("--cuts", min=1, max=10_000, help="Random cut points per asset.")
    ] = 50,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seed of the random cut points.")
    ] = 0,
    market: Annotated[
        str | None,
        typer.Option("--market", help="Pass this asset's candles as market= (e.g. bitcoin)."),
    ] = None,
) -> None:
    """Prove features never look ahead: recompute them on truncated history and compare."""

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
