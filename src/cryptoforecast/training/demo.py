"""``cryptoforecast demo``: the whole workflow on the embedded data, honestly reported.

For the demo coin (bitcoin) at each demo horizon (1 and 7 days):

1. train LightGBM, LSTM and the ensemble with fast settings (``demo`` section of the config),
   validate each walk-forward inside its training window, register it as staging and let the
   promotion gate decide whether it reaches production;
2. backtest each model and the naive forecast walk-forward over the last ``demo.backtest_days``
   days, refitting every ``demo.retrain_frequency`` days;
3. print the honesty scorecard (every figure beside naive's) and write ``reports/<coin>.html``;
4. print the next 1- and 7-day forecasts with 80% and 95% intervals from the production model,
   or from the technical-analysis fallback, clearly labelled, when no model earned production.

The time each step took is printed. ``fast=True`` shrinks everything to a smoke run.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cryptoforecast.evaluation.formatting import format_price

if TYPE_CHECKING:
    from rich.console import Console

    from cryptoforecast.config import Settings

__all__ = ["DemoResult", "FAST_OVERRIDES", "demo_settings", "run_demo"]

#: ``--fast``: a smoke run in well under a minute (the figures mean nothing at this size)
FAST_OVERRIDES: dict[str, Any] = {
    "lightgbm": {"n_estimators": 60, "early_stopping_rounds": 10},
    "lstm": {"epochs": 2},
    "ensemble": {"inner_folds": 2},
    "training": {"days": 400, "validation_size": 60, "validation_retrain_every": 60},
    "demo": {"backtest_days": 60, "retrain_frequency": 60, "lstm_epochs": 2},
}


@dataclass
class DemoResult:
    """What the demo produced: per-step timings, trainings, backtests, forecasts, report path."""

    timings: dict[str, float] = field(default_factory=dict)
    trainings: list[dict[str, Any]] = field(default_factory=list)
    backtests: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    forecasts: list[dict[str, Any]] = field(default_factory=list)
    report_path: Path | None = None
    notes: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)


def demo_settings(
    config: Settings | Mapping[str, Any] | str | Path | None = None, fast: bool = False
) -> Settings:
    """The demo's settings: the config, with the demo section's fast LSTM epochs applied."""
    from cryptoforecast.config import Settings
    from cryptoforecast.training.train_pipeline import resolve_settings

    settings = resolve_settings(config)
    data = settings.model_dump()
    if fast:
        data = _merge(data, FAST_OVERRIDES)
    data["lstm"]["epochs"] = data["demo"]["lstm_epochs"]
    # one refit per demo retrain period inside the training window's validation too
    data["training"]["validation_retrain_every"] = max(
        data["training"]["validation_retrain_every"], data["demo"]["retrain_frequency"]
    )
    return Settings.model_validate(data)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, Mapping) and isinstance(out.get(key), dict)
            else value
        )
    return out


class _Clock:
    def __init__(self, console: Console, result: DemoResult) -> None:
        self.console, self.result = console, result

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.console.print(f"[bold cyan]>[/] {name} ...", highlight=False)
        t0 = time.perf_counter()
        yield
        took = time.perf_counter() - t0
        self.result.timings[name] = took
        self.console.print(f"  [dim]{name}: {took:.1f} s[/]", highlight=False)


# --------------------------------------------------------------------------------------------
# backtest
# --------------------------------------------------------------------------------------------
def _backtest(
    candles: pd.DataFrame,
    model_type: str,
    horizon: int,
    settings: Settings,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Walk-forward over the last ``demo.backtest_days`` origins; returns (results, aggregate)."""
    from cryptoforecast.training.backtester import ForecastBacktester
    from cryptoforecast.training.train_pipeline import fit_forecaster, model_params

    demo = settings.demo
    params = model_params(settings, model_type)
    seed = settings.training.seed
    coverages = tuple(settings.backtest.interval_coverage)
    # each refit sees the last training.days rows, as the registered models do
    bt = ForecastBacktester(
        initial_train_size=settings.training.days,
        test_size=demo.retrain_frequency,
        step_size=demo.retrain_frequency,
        retrain_frequency=demo.retrain_frequency,
        horizon=horizon,
        window="sliding",
        interval_coverage=coverages,
        test_origins=demo.backtest_days,
    )

    def trainer(X: pd.DataFrame, y: pd.Series) -> Any:
        return fit_forecaster(
            model_type, horizon, X, y, params, seed, settings.feature_selection.top_k
        )

    results = bt.run_walk_forward_validation(candles, trainer)
    agg = bt.calculate_aggregate_metrics()
    agg["_feature_importance"] = getattr(bt, "feature_importance_", None)
    return results, agg


def _flat_metrics(agg: Mapping[str, Any]) -> dict[str, Any]:
    """Model and naive figures from either aggregate format (backtester's or the pipeline's)."""
    model = agg.get("model") if isinstance(agg.get("model"), Mapping) else None
    naive = agg.get("naive") if isinstance(agg.get("naive"), Mapping) else None
    if model is not None:
        out = {k: v for k, v in model.items() if not isinstance(v, Mapping | list)}
        out.update(
            {f"naive_{k}": v for k, v in (naive or {}).items() if not isinstance(v, Mapping | list)}
        )
        for k in ("dm_pvalue", "improvement_vs_naive_pct", "n_forecasts", "n_refits"):
            if k in agg:
                out[k] = agg[k]
        return out
    return dict(agg)


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
def _fmt(value: Any, fmt: str) -> str:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.floating)
        or not math.isfinite(float(value))
    ):
        return "-"
    return format(float(value), fmt)


def _scorecard_tables(result: DemoResult, crypto_id: str) -> list[Any]:
    """The honesty scorecard per (model, horizon) when the evaluation package has one, and a
    compact comparison table beside naive in every case."""
    from rich.table import Table

    tables: list[Any] = []
    summary = Table(
        title=f"{crypto_id}: walk-forward backtest, every figure beside the naive forecast on the same origins"
    )
    for col in (
        "model",
        "h",
        "MAPE %",
        "naive MAPE %",
        "MAE",
        "naive MAE",
        "MASE",
        "dir. acc.",
        "DM p",
        "80% cov",
        "95% cov",
        "beats naive?",
    ):
        summary.add_column(col, justify="left" if col in ("model", "beats naive?") else "right")
    for (model_type, h), bt in sorted(
        result.backtests.items(), key=lambda kv: (kv[0][1], kv[0][0])
    ):
        m = _flat_metrics(bt["aggregate"])
        mase = m.get("mase")
        if model_type == "naive":
            beats = "(the benchmark)"
        elif isinstance(mase, int | float) and math.isfinite(mase):
            p = m.get("dm_pvalue")
            significant = isinstance(p, int | float) and math.isfinite(p) and p < 0.05
            if mase >= 1:
                beats = "[red]no[/]"
            else:
                beats = (
                    "[green]yes, DM p < 0.05[/]"
                    if significant
                    else "[yellow]MASE < 1, not significant[/]"
                )
        else:
            beats = "-"
        summary.add_row(
            model_type,
            str(h),
            _fmt(m.get("mape"), ".2f"),
            _fmt(m.get("naive_mape"), ".2f"),
            format_price(m.get("mae")),
            format_price(m.get("naive_mae")),
            _fmt(mase, ".3f"),
            _fmt(m.get("directional_accuracy"), ".1%"),
            _fmt(m.get("dm_pvalue"), ".3f"),
            _fmt(m.get("coverage_80"), ".0%"),
            _fmt(m.get("coverage_95"), ".0%"),
            beats,
        )
    tables.append(summary)
    try:
        from cryptoforecast.evaluation.scorecard import scorecard_table, verdict
    except ImportError:
        return tables
    for (model_type, h), bt in sorted(
        result.backtests.items(), key=lambda kv: (kv[0][1], kv[0][0])
    ):
        if model_type == "naive":
            continue
        agg = bt["aggregate"]
        try:
            tables.append(
                scorecard_table(agg, title=f"Honesty scorecard: {model_type}, {h}-day horizon")
            )
            result.verdicts.append(verdict({**agg, "model_type": f"{model_type} h={h}"}))
        except Exception as exc:  # the pipeline's fallback aggregate has another shape
            result.notes.append(f"scorecard for {model_type} h={h} unavailable: {exc}")
    return tables


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "[green]pass[/]" if value else "[red]fail[/]"
    if isinstance(value, float):
        return _fmt(value, ".4g")
    return str(value)


def _training_table(result: DemoResult) -> Any:
    from rich.table import Table

    table = Table(
        title="Training: validation inside each window beside naive, and the promotion gate"
    )
    for col in (
        "model",
        "h",
        "id",
        "val MASE (naive=1)",
        "val MAE",
        "naive MAE",
        "DM p",
        "stage",
        "gate reason",
        "s",
    ):
        table.add_column(
            col, justify="left" if col in ("model", "stage", "gate reason") else "right"
        )
    for t in result.trainings:
        if t.get("error"):
            table.add_row(
                t["model_type"],
                str(t["horizon"]),
                "-",
                "-",
                "-",
                "-",
                "-",
                "[red]failed[/]",
                t["error"],
                "-",
            )
            continue
        m = t["metrics"]
        table.add_row(
            t["model_type"],
            str(t["horizon"]),
            str(t.get("model_id") or "-"),
            _fmt(m.get("mase"), ".3f"),
            format_price(m.get("mae")),
            format_price(m.get("naive_mae")),
            _fmt(m.get("dm_pvalue"), ".3f"),
            "[green]production[/]" if t.get("status") == "production" else str(t.get("status")),
            str(m.get("gate", {}).get("reason", "")),
            _fmt(t.get("seconds"), ".1f"),
        )
    return table


def _forecast_table(result: DemoResult, crypto_id: str) -> Any:
    from rich.table import Table

    table = Table(
        title=f"{crypto_id}: next forecasts (from the last candle), with conformal intervals"
    )
    for col in (
        "horizon",
        "target date",
        "last close",
        "naive",
        "forecast",
        "80% interval",
        "95% interval",
        "model",
    ):
        table.add_column(col, justify="left" if col in ("model", "target date") else "right")
    for f in result.forecasts:
        table.add_row(
            f"{f['horizon']} d",
            f["target_date"],
            f"{f['last_close']:,.0f}",
            f"{f['last_close']:,.0f}",
            f"{f['forecast']:,.0f}",
            f"{f['lower_80']:,.0f} - {f['upper_80']:,.0f}",
            f"{f['lower_95']:,.0f} - {f['upper_95']:,.0f}",
            f["label"],
        )
    return table


# --------------------------------------------------------------------------------------------
# forecasts
# --------------------------------------------------------------------------------------------
def _next_forecast(
    candles: pd.DataFrame, crypto_id: str, horizon: int, registry: Any, settings: Settings
) -> dict[str, Any]:
    """Next-``horizon`` forecast from the production model, else the labelled technical fallback."""
    from cryptoforecast.features import build_features
    from cryptoforecast.training.train_pipeline import (
        PREDICT_CONTEXT,
        fit_forecaster,
        prepare_training_data,
    )

    rec = registry.get_production_model(crypto_id, None, horizon)
    if rec is not None:
        model = rec.load()
        label = f"{rec.model_type} v{rec.version} (production, id {rec.model_id}, val MASE {_fmt(rec.validation_mase, '.3f')})"
    else:
        data = prepare_training_data(candles, settings.training.days, horizon)
        model = fit_forecaster("technical", horizon, data.X, data.y, {}, settings.training.seed)
        label = "FALLBACK: technical-analysis rules (no model passed the promotion gate)"
    feats = build_features(candles.iloc[-(PREDICT_CONTEXT + 450) :])
    feats = feats.dropna()
    X = feats[list(model.feature_names_)]
    point = float(model.predict(X).iloc[-1])
    last = float(candles["close"].iloc[-1])
    out: dict[str, Any] = {
        "horizon": horizon,
        "origin": str(candles.index[-1].date()),
        "target_date": str((candles.index[-1] + pd.Timedelta(days=horizon)).date()),
        "last_close": last,
        "forecast": last * math.exp(point),
        "label": label,
        "production": rec is not None,
    }
    for c in (0.8, 0.95):
        band = model.predict_interval(X, coverage=c).iloc[-1]
        tag = round(c * 100)
        out[f"lower_{tag}"] = last * math.exp(float(band["lower"]))
        out[f"upper_{tag}"] = last * math.exp(float(band["upper"]))
    return out


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------
def _write_report(result: DemoResult, crypto_id: str, path: Path) -> Path | None:
    """One offline HTML report with every backtest (naive included) of the demo."""
    try:
        from cryptoforecast.evaluation.report import BacktestRun, write_report
    except ImportError:
        result.notes.append(
            "HTML report skipped: cryptoforecast.evaluation.report is not installed"
        )
        return None
    runs = [
        BacktestRun(
            name=f"{m} h={h}",
            results=bt["results"],
            metrics={k: v for k, v in bt["aggregate"].items() if k != "_feature_importance"},
            feature_importance=bt["aggregate"].get("_feature_importance"),
        )
        for (m, h), bt in sorted(result.backtests.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    if not runs:
        result.notes.append("HTML report skipped: no backtest finished")
        return None
    title = f"{crypto_id}: demo walk-forward backtests beside the naive forecast"
    return Path(write_report(path, runs, title=title))


# --------------------------------------------------------------------------------------------
# the demo
# --------------------------------------------------------------------------------------------
def run_demo(
    console: Console | None = None,
    fast: bool = False,
    config: Settings | Mapping[str, Any] | str | Path | None = None,
    reports_dir: str | Path = "reports",
    registry: Any = None,
) -> DemoResult:
    """Run the demo (see the module docstring) and return what it produced."""
    from rich.console import Console

    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.registry import ModelRegistry
    from cryptoforecast.training.distributed import summarise_model
    from cryptoforecast.training.train_pipeline import train_model_for_crypto

    console = console or Console()
    settings = demo_settings(config, fast=fast)
    demo = settings.demo
    registry = registry or ModelRegistry()
    result = DemoResult()
    clock = _Clock(console, result)
    started = time.perf_counter()
    console.rule(
        f"cryptoforecast demo: {demo.crypto_id}, horizons {demo.horizons}, models {demo.models}"
    )

    with clock.step("load candles"):
        candles = load_ohlcv(demo.crypto_id)
        crypto_id = str(candles.attrs.get("crypto_id", demo.crypto_id))
        console.print(
            f"  {len(candles):,} daily candles {candles.index[0]:%Y-%m-%d} .. {candles.index[-1]:%Y-%m-%d} (embedded snapshot)",
            highlight=False,
        )

    for h in demo.horizons:
        for model_type in demo.models:
            with clock.step(f"train {model_type} h={h} (validate, register, gate)"):
                t0 = time.perf_counter()
                try:
                    model = asyncio.run(
                        train_model_for_crypto(
                            crypto_id,
                            model_type,
                            days=settings.training.days,
                            horizon=h,
                            config=settings,
                            registry=registry,
                        )
                    )
                    entry = {
                        "model_type": model_type,
                        "horizon": h,
                        **summarise_model(model),
                        "metrics": getattr(model, "metrics", {}),
                        "error": None,
                    }
                except Exception as exc:  # one model failing must not hide the others' results
                    entry = {
                        "model_type": model_type,
                        "horizon": h,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                entry["seconds"] = time.perf_counter() - t0
                result.trainings.append(entry)
    console.print(_training_table(result))

    for h in demo.horizons:
        for model_type in ["naive", *demo.models]:
            with clock.step(f"backtest {model_type} h={h} over the last {demo.backtest_days} days"):
                try:
                    results, agg = _backtest(candles, model_type, h, settings)
                    result.backtests[(model_type, h)] = {"results": results, "aggregate": agg}
                except Exception as exc:
                    result.notes.append(
                        f"backtest {model_type} h={h} failed: {type(exc).__name__}: {exc}"
                    )
    for table in _scorecard_tables(result, crypto_id):
        console.print(table)
    for line in result.verdicts:
        console.print(f"  [bold]{line}[/]", highlight=False)

    with clock.step("write the HTML report"):
        result.report_path = _write_report(
            result, crypto_id, Path(reports_dir) / f"{crypto_id}.html"
        )
        if result.report_path is not None:
            console.print(f"  report: {result.report_path}", highlight=False)

    with clock.step("forecast the next days"):
        for h in demo.horizons:
            result.forecasts.append(_next_forecast(candles, crypto_id, h, registry, settings))
    console.print(_forecast_table(result, crypto_id))
    if any(not f["production"] for f in result.forecasts):
        console.print(
            "[yellow]No model beat naive on validation for some horizon: the forecast shown there is the "
            "technical-analysis fallback, which has not earned production either.[/]"
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    result.timings["total"] = time.perf_counter() - started
    console.print(f"[bold]demo finished in {result.timings['total']:.1f} s[/]", highlight=False)
    return result
