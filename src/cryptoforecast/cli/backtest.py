"""``cryptoforecast backtest``: walk-forward beside the naive forecast, scorecard and report."""

from __future__ import annotations

import functools
from typing import Annotated, Any

import typer
from rich.table import Table

from cryptoforecast.assets import file_asset, resolve_asset
from cryptoforecast.backtest.engine import backtester_from, trainer_for
from cryptoforecast.cli._common import (
    CandlePathOption,
    CandleSourceOption,
    advance,
    check_candle_path,
    console,
    echo_json,
    num,
    progress_bar,
    speaking_flags,
)
from cryptoforecast.cli._end import check_end
from cryptoforecast.config import MAX_WINDOW_CANDLES, load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.formatting import format_price
from cryptoforecast.evaluation.report import write_report
from cryptoforecast.evaluation.scorecard import scorecard_table, verdict
from cryptoforecast.features import warmup_rows
from cryptoforecast.models.catalog import load_plugins, model_class
from cryptoforecast.models.distribution import BASELINES, VOLATILITY_MODELS
from cryptoforecast.models.factory import params_for
from cryptoforecast.replay.served import backtest_served, guard_lines, report_runs

__all__ = [
    "backtest",
    "backtest_table",
    "distribution_table",
    "served_backtest",
    "served_distribution_table",
]

_FLAGS = {
    "initial_train_size": "--initial-train-size",
    "retrain_frequency": "--retrain-frequency",
    "test_origins": "--days",
    "fee_bps": "--fee-bps",
    "source": "--source",
    "end": "--end",
    "path": "--path",
}


def backtest_table(runs: list, title: str) -> Table:
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

    def cell(metrics: dict, key: str, fmt: str) -> str:
        return format_price(metrics.get(key)) if key == "mae" else num(metrics.get(key), fmt)

    for label, key, fmt in rows:
        table.add_row(
            label,
            *(cell(r.metrics["model"], key, fmt) for r in runs),
            cell(runs[0].metrics["naive"], key, fmt),
        )
    table.add_row("DM p-value", *(num(r.metrics.get("dm_pvalue"), ".3g") for r in runs), "")
    bh = runs[0].metrics.get("buy_and_hold", {}).get("total_return")
    table.add_row("buy-and-hold return", *("" for _ in runs), num(bh, "+.1%"))
    return table


def distribution_table(runs: list, title: str) -> Table:
    """CRPS, coverage and skill against each baseline (DM p on CRPS), one column per model."""
    table = Table(title=title)
    table.add_column("metric")
    for run in runs:
        table.add_column(run.name, justify="right")
    blocks = [r.metrics.get("distribution", {}) for r in runs]
    table.add_row("CRPS", *(num(b.get("crps"), ".5f") for b in blocks))
    for tag in ("80", "95"):
        table.add_row(
            f"{tag}% coverage", *(num(b.get("coverage", {}).get(tag), ".1%") for b in blocks)
        )
    for tercile in ("low", "mid", "high"):
        table.add_row(
            f"80% coverage, {tercile} vol",
            *(
                num(b.get("coverage_by_vol_tercile", {}).get(tercile, {}).get("80"), ".1%")
                for b in blocks
            ),
        )
    for base in BASELINES:
        table.add_row(
            f"CRPS skill vs {base}",
            *(num(b.get("skill", {}).get(base, {}).get("crps_skill_pct"), "+.2f") for b in blocks),
        )
        table.add_row(
            f"  DM p vs {base}",
            *(num(b.get("skill", {}).get(base, {}).get("dm_pvalue"), ".3g") for b in blocks),
        )
    return table


def served_distribution_table(block: dict[str, Any], title: str) -> Table:
    """The served distribution beside each baseline on the same origins: CRPS, the served
    CRPS skill against it with the DM p-value, 80%/95% coverage and the mean PIT."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("served", justify="right")
    for base in BASELINES:
        table.add_column(f"baseline: {base}", justify="right")
    bases = [block.get("baselines", {}).get(b, {}) for b in BASELINES]
    skills = [block.get("skill", {}).get(b, {}) for b in BASELINES]
    table.add_row("origins", str(block.get("n", 0)), *(str(b.get("n", 0)) for b in bases))
    table.add_row(
        "CRPS", num(block.get("crps"), ".5f"), *(num(b.get("crps"), ".5f") for b in bases)
    )
    table.add_row(
        "served CRPS skill % vs", "", *(num(s.get("crps_skill_pct"), "+.2f") for s in skills)
    )
    table.add_row("  DM p", "", *(num(s.get("dm_pvalue"), ".3g") for s in skills))
    for tag in ("80", "95"):
        table.add_row(
            f"{tag}% coverage",
            num(block.get("coverage", {}).get(tag), ".1%"),
            *(num(b.get("coverage", {}).get(tag), ".1%") for b in bases),
        )
    table.add_row(
        "PIT mean (0.5 unbiased)",
        num(block.get("pit_mean"), ".3f"),
        *(num(b.get("pit_mean"), ".3f") for b in bases),
    )
    return table


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
        int,
        typer.Option("--horizon", "-H", min=1, max=14, help="Forecast horizon in candles (1-14)."),
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
            max=MAX_WINDOW_CANDLES,
            help="Forecast origins to backtest: the last N (default demo.backtest_days).",
        ),
    ] = None,
    initial_train_size: Annotated[
        int | None,
        typer.Option(
            "--initial-train-size",
            min=1,
            max=MAX_WINDOW_CANDLES,
            help="Minimum training rows of the first fit (default backtest.initial_train_size); earlier rows are used too with an expanding window.",
        ),
    ] = None,
    retrain_frequency: Annotated[
        int | None,
        typer.Option(
            "--retrain-frequency",
            min=1,
            max=MAX_WINDOW_CANDLES,
            help="Refit every N origins (default backtest.retrain_frequency).",
        ),
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="expanding or sliding (default backtest.window).")
    ] = None,
    source: CandleSourceOption = "snapshot",
    path: CandlePathOption = None,
    end: Annotated[str | None, typer.Option("--end", help="Last candle to use.")] = None,
    fee_bps: Annotated[
        float,
        typer.Option(
            "--fee-bps",
            min=0.0,
            max=10_000.0,
            help="Trading fee per unit traded, basis points (10000: all of it).",
        ),
    ] = 10.0,
    intervals: Annotated[
        str,
        typer.Option(
            "--intervals",
            help="Interval calibration: split (each model's static conformal band) or aci (adaptive conformal, updated with every error known at the origin).",
        ),
    ] = "split",
    distribution: Annotated[
        str | None,
        typer.Option(
            "--distribution",
            help="Add a predictive distribution around the point forecasts, scored by CRPS against rolling_gaussian, ewma_t and garch_t: rolling_gaussian, ewma_t, garch_t, har_rv or lightgbm_vol.",
        ),
    ] = None,
    served: Annotated[
        bool,
        typer.Option(
            "--served",
            help="Replay what users would have received: retrain every --retrain-frequency origins (default 7) through the gate into a throwaway registry and forecast with what the service serves (production model or fallback). --model names the candidates (default lightgbm, xgboost, lstm, ensemble); --days defaults to 1095.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as JSON (no tables, no progress).")
    ] = False,
) -> None:
    """Walk-forward backtest beside the naive forecast, with the honesty scorecard and an HTML report."""
    if served:
        served_backtest(crypto_id, model, horizon, days, retrain_frequency, report)
        return

    check_candle_path(source, path)
    settings = load_config()
    load_plugins(settings)  # the configured plug-ins: their model types are --model names too
    cfg = settings.backtest
    asset = file_asset(crypto_id) if path is not None else resolve_asset(crypto_id)
    models = list(dict.fromkeys(model or ["lightgbm"]))
    n_origins = days or settings.demo.backtest_days
    initial = initial_train_size or cfg.initial_train_size
    refit = retrain_frequency or cfg.retrain_frequency
    win = window or cfg.window
    if win not in ("expanding", "sliding"):
        raise typer.BadParameter(f"--window must be expanding or sliding, got {win!r}")
    if intervals not in ("split", "aci"):
        raise typer.BadParameter(f"--intervals must be split or aci, got {intervals!r}")
    if distribution is not None and distribution not in VOLATILITY_MODELS:
        raise typer.BadParameter(
            f"--distribution must be one of {', '.join(VOLATILITY_MODELS)}, got {distribution!r}"
        )
    trainers = {}
    for name in models:  # unknown names fail before any data is loaded
        params = params_for(model_class(name), settings.model_params(name))
        trainers[name] = trainer_for(name, horizon, **params)
    load_days = (
        None if source == "snapshot" else warmup_rows() + initial + 2 * horizon + n_origins + 1
    )
    with speaking_flags(_FLAGS):
        candles = load_ohlcv(asset.id, days=load_days, source=source, end=end, path=path)
    if source == "csv":
        last = load_ohlcv(asset.id, source=source, path=path).index[-1]
    else:
        last = load_ohlcv(asset.id).index[-1] if source == "snapshot" else None
    check_end(end, last, source)
    intraday = None
    if distribution is not None and source == "snapshot":  # realised measures from 4h candles
        intraday = load_ohlcv(asset.id, interval="4h", end=end)
    runs = []
    with (
        progress_bar("origins", disable=as_json) as progress,
        speaking_flags(_FLAGS),
    ):
        for name in models:
            task = progress.add_task(f"{name} h={horizon}", total=n_origins)
            bt = backtester_from(
                settings,
                horizon,
                initial_train_size=initial,
                retrain_frequency=refit,
                window=win,
                test_origins=n_origins,
                fee_bps=fee_bps,
                interval_method=intervals,  # type: ignore[arg-type]
                distribution=distribution,
            )
            bt.run_walk_forward_validation(
                candles,
                trainers[name],
                progress=functools.partial(advance, progress, task),
                intraday=intraday,
            )
            runs.append(BacktestRun.from_backtester(name, bt))
    first = runs[0].metrics
    title = (
        f"{asset.id} h={horizon}: {first['n_forecasts']} origins {first['start'][:10]} .. "
        f"{first['end'][:10]}, refit every {refit}, {intervals} intervals"
    )
    notes = []
    if first["n_forecasts"] < n_origins:
        notes.append(
            f"--days {n_origins} asks for more origins than the data have after the first fit: "
            f"backtested the {first['n_forecasts']} available ({first['start'][:10]} .. "
            f"{first['end'][:10]}); lower --initial-train-size for more"
        )
    if as_json:
        echo_json(
            {
                "crypto_id": asset.id,
                "horizon": horizon,
                "notes": notes,
                "runs": [{"model": r.name, "metrics": r.metrics} for r in runs],
                "verdicts": [verdict(r.metrics) for r in runs],
            }
        )
        return
    con = console()
    for note in notes:
        con.print(f"[yellow]note:[/] {note}", highlight=False)
    con.print(backtest_table(runs, title))
    if distribution is not None:
        con.print(
            distribution_table(runs, f"Distribution {distribution}: CRPS beside the baselines")
        )
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
        written = write_report(
            report,
            runs,
            title=f"{asset.id}: backtest h={horizon} ({', '.join(models)})",
            settings=settings_shown,
        )
        con.print(f"report written to {written}", highlight=False)


def served_backtest(
    crypto_id: str,
    model: list[str] | None,
    horizon: int,
    days: int | None,
    retrain_every: int | None,
    report: str | None,
) -> None:
    """``backtest --served``: the served-forecast track record beside naive."""
    kwargs: dict[str, Any] = {"days": days or 1095, "retrain_every": retrain_every or 7}
    if model:
        kwargs["candidates"] = tuple(dict.fromkeys(model))
    with console().status(f"replaying the served forecasts of {crypto_id} h={horizon}"):
        bt = backtest_served(crypto_id, horizon, **kwargs)
    runs = report_runs(bt)
    m = bt.metrics
    title = (
        f"{bt.crypto_id} h={horizon}: served forecasts at {m['n_forecasts']} origins "
        f"{m['start'][:10]} .. {m['end'][:10]}, retrained every {kwargs['retrain_every']}"
    )
    con = console()
    con.print(backtest_table(runs, title))
    shares = ", ".join(f"{k} {v:.0%}" for k, v in m["served_share"].items())
    con.print(f"served: {shares}", highlight=False)
    for line in guard_lines(m["guard"]):
        con.print(line, highlight=False)
    block = m.get("distribution", {})
    if block.get("n"):
        con.print(
            served_distribution_table(
                block, "Served distribution beside garch_ref and the baselines (same origins)"
            )
        )
    left = {
        "no distribution served": block.get("n_without_distribution", 0),
        "a baseline not scored yet (garch_ref needs 500 returns)": block.get(
            "n_without_baselines", 0
        ),
    }
    if any(left.values()) or not block.get("n"):
        why = "; ".join(f"{n}: {k}" for k, n in left.items() if n) or block.get("reason", "")
        con.print(f"origins left out of the distribution scores: {why}", highlight=False)
    con.print(scorecard_table(m, title="Honesty scorecard: served"))
    con.print(verdict(m), highlight=False)
    if report:
        path = write_report(
            report,
            runs,
            title=f"{bt.crypto_id}: served-forecast backtest h={horizon}",
            settings={
                "asset": bt.crypto_id,
                "candidates": ", ".join(bt.candidates),
                "retrain every": kwargs["retrain_every"],
                "origins": kwargs["days"],
                "served": shares,
            },
        )
        con.print(f"report written to {path}", highlight=False)
