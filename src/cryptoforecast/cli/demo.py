"""``cryptoforecast demo``: the whole workflow on the embedded data, over the product's own API.

For the demo coin (bitcoin) at each demo horizon (1 and 7 days):

1. ``train_model`` trains LightGBM, LSTM and the ensemble with fast settings (the
   ``demo`` section of the config): validated walk-forward inside its training window,
   registered as staging, promoted only if the gate says so;
2. ``ForecastBacktester`` backtests each model and the naive forecast walk-forward over the last
   ``demo.backtest_days`` days, refitting every ``demo.retrain_frequency`` days;
3. the honesty scorecard (every figure beside naive's) is printed and ``reports/<coin>.html``
   written;
4. ``Predictor.predict`` gives the next 1- and 7-day forecasts with 80% and 95% intervals: from
   the production model, or from the technical-analysis fallback, labelled, when no model earned
   production (the service's own checks apply, the in-sample check included).

The time each step took is printed. ``fast=True`` shrinks everything to a smoke run, marked as
one in the output and in its registered models' config (``note``).

The demo registers into a registry of its own, :func:`demo_registry`
(``$CRYPTOFORECAST_HOME/demo/``), never into the user's: a demo's model must not retire a
production model, nor look like a real version on ``/models``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from cryptoforecast.backtest.engine import backtester_from
from cryptoforecast.cli._common import console as default_console
from cryptoforecast.cli._common import num, table
from cryptoforecast.cli.training import summary_table
from cryptoforecast.config import Settings
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.formatting import format_price
from cryptoforecast.evaluation.report import write_report
from cryptoforecast.evaluation.scorecard import scorecard_table, verdict
from cryptoforecast.features import build_features, without_groups
from cryptoforecast.paths import home_dir
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.schemas import Forecast
from cryptoforecast.training.fit import fit_forecaster, model_params
from cryptoforecast.training.jobs import summarise_model
from cryptoforecast.training.pipeline import resolve_settings, train_model
from cryptoforecast.training.results import TrainingSummary

__all__ = [
    "DEMO_DIR",
    "FAST_OVERRIDES",
    "SMOKE_RUN_NOTE",
    "DemoResult",
    "demo",
    "demo_registry",
    "demo_settings",
    "run_demo",
]

#: the demo's own folder under ``$CRYPTOFORECAST_HOME``: its registry and artifacts
DEMO_DIR = "demo"
#: what a smoke run's models carry in their config (``note``) and its output says
SMOKE_RUN_NOTE = "smoke run (cryptoforecast demo --fast): tiny settings, the figures mean nothing"

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
    trainings: list[TrainingSummary] = field(default_factory=list)
    backtests: dict[tuple[str, int], BacktestRun] = field(default_factory=dict)
    forecasts: list[Forecast] = field(default_factory=list)
    report_path: Path | None = None
    notes: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)


def demo_registry() -> ModelRegistry:
    """The demo's registry: SQLite and artifacts under ``$CRYPTOFORECAST_HOME/demo/``, whatever
    ``$CRYPTOFORECAST_REGISTRY_URL`` names (that is the user's registry, which a demo leaves
    alone)."""
    root = home_dir() / DEMO_DIR
    root.mkdir(parents=True, exist_ok=True)
    return ModelRegistry(url=f"sqlite:///{root / 'registry.db'}", artifact_root=root / "artifacts")


def demo_settings(
    config: Settings | Mapping[str, Any] | str | Path | None = None, fast: bool = False
) -> Settings:
    """The demo's settings: the config, with the demo section's fast LSTM epochs applied."""
    data = resolve_settings(config).model_dump()
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
        nested = isinstance(value, Mapping) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if nested else value
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
# the three product calls
# --------------------------------------------------------------------------------------------
def _train(
    crypto_id: str,
    model_type: str,
    horizon: int,
    settings: Settings,
    registry: Any,
    note: str | None = None,
) -> TrainingSummary:
    """Train, validate, register and gate one model; a failure becomes the summary's error."""
    started = time.perf_counter()
    try:
        model = train_model(
            crypto_id,
            model_type,
            days=settings.training.days,
            horizon=horizon,
            config=settings,
            registry=registry,
            note=note,
        )
    except Exception as exc:  # one model failing must not hide the others' results
        return TrainingSummary(
            crypto_id=crypto_id,
            model_type=model_type,
            horizon=horizon,
            error=f"{type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - started,
        )
    return summarise_model(model, seconds=time.perf_counter() - started)


def _backtest(
    candles: pd.DataFrame, model_type: str, horizon: int, settings: Settings
) -> BacktestRun:
    """Walk-forward over the last ``demo.backtest_days`` origins; each refit sees the last
    ``training.days`` rows and is fitted as the registered models are (the same feature groups
    left out, the same feature selection)."""
    demo = settings.demo
    bt = backtester_from(
        settings,
        horizon,
        initial_train_size=settings.training.days,
        test_size=demo.retrain_frequency,
        step_size=demo.retrain_frequency,
        retrain_frequency=demo.retrain_frequency,
        window="sliding",
        test_origins=demo.backtest_days,
    )
    params = model_params(settings, model_type)
    seed, top_k = settings.training.seed, settings.feature_selection.top_k

    def trainer(X: pd.DataFrame, y: pd.Series) -> Any:
        return fit_forecaster(model_type, horizon, X, y, params, seed, top_k)

    excluded = settings.feature_selection.excluded_groups(horizon)
    features = without_groups(build_features(candles), excluded)
    bt.run_walk_forward_validation(candles, trainer, features=features)
    return BacktestRun.from_backtester(f"{model_type} h={horizon}", bt)


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
def _beats_naive(model_type: str, metrics: Mapping[str, Any]) -> str:
    mase, p = metrics["model"].get("mase"), metrics.get("dm_pvalue")
    if model_type == "naive":
        return "(the benchmark)"
    if not isinstance(mase, int | float) or mase != mase:
        return "-"
    if mase >= 1:
        return "[red]no[/]"
    if isinstance(p, int | float) and p < 0.05:
        return "[green]yes, DM p < 0.05[/]"
    return "[yellow]MASE < 1, not significant[/]"


def backtest_table(result: DemoResult, crypto_id: str) -> Table:
    """One row per (model, horizon): every figure beside the naive forecast's."""
    out = table(
        f"{crypto_id}: walk-forward backtest, every figure beside the naive forecast on the same origins",
        (
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
        ),
        left=("model", "beats naive?"),
    )
    for (model_type, h), run in sorted(result.backtests.items(), key=lambda kv: kv[0][::-1]):
        m, naive = run.metrics["model"], run.metrics["naive"]
        out.add_row(
            model_type,
            str(h),
            num(m.get("mape"), ".2f"),
            num(naive.get("mape"), ".2f"),
            format_price(m.get("mae")),
            format_price(naive.get("mae")),
            num(m.get("mase"), ".3f"),
            num(m.get("directional_accuracy"), ".1%"),
            num(run.metrics.get("dm_pvalue"), ".3f"),
            num(m.get("coverage_80"), ".0%"),
            num(m.get("coverage_95"), ".0%"),
            _beats_naive(model_type, run.metrics),
        )
    return out


def forecast_label(forecast: Forecast) -> str:
    """Where a forecast came from: the production model, or the labelled fallback and why."""
    if forecast.source == "model":
        return (
            f"{forecast.model_type} v{forecast.model_version} (production, id {forecast.model_id})"
        )
    return f"FALLBACK: technical-analysis rules ({forecast.fallback_reason})"


def forecast_table(result: DemoResult, crypto_id: str) -> Table:
    """The next forecasts beside the naive forecast (the last close): each one predictive
    distribution's median and its 80%/95% intervals, and where the distribution came from."""
    out = table(
        f"{crypto_id}: next forecasts (from the last candle): the median and intervals of one "
        "predictive distribution",
        (
            "horizon",
            "target date",
            "last close",
            "naive",
            "median",
            "80% interval",
            "95% interval",
            "model",
            "distribution",
        ),
        left=("model", "target date", "distribution"),
    )
    for f in result.forecasts:
        bands = [
            f"{f.intervals[c][0]:,.0f} - {f.intervals[c][1]:,.0f}" if c in f.intervals else "n/a"
            for c in (0.8, 0.95)
        ]
        out.add_row(
            f"{f.horizon} d",
            f"{f.target_time:%Y-%m-%d}",
            f"{f.last_close:,.0f}",
            f"{f.last_close:,.0f}",
            f"{f.predicted_price:,.0f}",
            *bands,
            forecast_label(f),
            f.distribution_source or f"none ({f.no_distribution_reason})",
        )
    return out


# --------------------------------------------------------------------------------------------
# the script
# --------------------------------------------------------------------------------------------
def run_demo(
    console: Console | None = None,
    fast: bool = False,
    config: Settings | Mapping[str, Any] | str | Path | None = None,
    reports_dir: str | Path = "reports",
    registry: Any = None,
) -> DemoResult:
    """Run the demo (see the module docstring) and return what it produced.

    ``registry`` defaults to :func:`demo_registry`, never the user's registry."""
    console = console or Console()
    settings = demo_settings(config, fast=fast)
    demo = settings.demo
    own_registry = registry is None
    registry = registry or demo_registry()
    note = SMOKE_RUN_NOTE if fast else None
    result = DemoResult()
    clock = _Clock(console, result)
    started = time.perf_counter()
    console.rule(
        ("SMOKE RUN, not a result: " if fast else "")
        + f"cryptoforecast demo: {demo.crypto_id}, horizons {demo.horizons}, models {demo.models}"
    )
    if fast:
        console.print(f"[yellow]{SMOKE_RUN_NOTE}[/]", highlight=False)
    if own_registry:
        console.print(
            f"  models go to the demo's own registry in {home_dir() / DEMO_DIR}; "
            "your registry is left as it is",
            highlight=False,
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
                result.trainings.append(_train(crypto_id, model_type, h, settings, registry, note))
    console.print(
        summary_table(
            result.trainings,
            "Training: validation inside each window beside naive, and the promotion gate",
        )
    )

    for h in demo.horizons:
        for model_type in ["naive", *demo.models]:
            with clock.step(f"backtest {model_type} h={h} over the last {demo.backtest_days} days"):
                try:
                    result.backtests[(model_type, h)] = _backtest(candles, model_type, h, settings)
                except Exception as exc:
                    result.notes.append(
                        f"backtest {model_type} h={h} failed: {type(exc).__name__}: {exc}"
                    )
    console.print(backtest_table(result, crypto_id))
    for (name, h), run in sorted(result.backtests.items(), key=lambda kv: kv[0][::-1]):
        if name != "naive":
            title = f"Honesty scorecard: {name}, {h}-day horizon"
            console.print(scorecard_table(run.metrics, title=title))
            result.verdicts.append(verdict({**run.metrics, "model_type": run.name}))
    for line in result.verdicts:
        console.print(f"  [bold]{line}[/]", highlight=False)

    with clock.step("write the HTML report"):
        runs = [run for _, run in sorted(result.backtests.items(), key=lambda kv: kv[0][::-1])]
        if runs:
            title = f"{crypto_id}: demo walk-forward backtests beside the naive forecast"
            path = Path(reports_dir) / f"{crypto_id}.html"
            result.report_path = Path(write_report(path, runs, title=title))
            console.print(f"  report: {result.report_path}", highlight=False)
        else:
            result.notes.append("HTML report skipped: no backtest finished")

    with clock.step("forecast the next days"):
        predictor = Predictor(registry=registry, cache_ttl=0, record=False)
        result.forecasts = [predictor.predict(crypto_id, horizon=h) for h in demo.horizons]
    console.print(forecast_table(result, crypto_id))
    if any(f.source != "model" for f in result.forecasts):
        console.print(
            "[yellow]No model beat naive on validation for some horizon: the forecast shown there is the "
            "technical-analysis fallback, which has not earned production either.[/]"
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    result.timings["total"] = time.perf_counter() - started
    console.print(f"[bold]demo finished in {result.timings['total']:.1f} s[/]", highlight=False)
    if fast:
        console.print(f"[yellow]{SMOKE_RUN_NOTE}[/]", highlight=False)
    return result


def demo(
    fast: Annotated[
        bool, typer.Option("--fast", help="Tiny settings: a smoke run in seconds, not a result.")
    ] = False,
) -> None:
    """The real thing on the embedded data: train, backtest vs naive, gate, report, forecast."""
    run_demo(console=default_console(), fast=fast)
