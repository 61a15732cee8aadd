"""One self-contained, offline HTML report of one or more backtests (same coin, same origins).

Every plot is a matplotlib PNG embedded as base64 (no scripts, no external URLs), so the file opens
anywhere without a network. In reading order: the verdict, one sentence per model and horizon;
the forecast picture (price with forecasts and intervals); the evidence (error distribution,
rolling MASE, cumulative strategy return vs buy-and-hold, interval calibration, feature importance
of the models that have one); then the tables (metrics beside naive, the honesty scorecard,
per-fold results). Prices are formatted by magnitude, so a sub-dollar coin keeps its digits.

::

    run = BacktestRun.from_backtester("lightgbm", backtester)
    write_report("reports/bitcoin-lightgbm-h7.html", [run], title="bitcoin, h=7")
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from cryptoforecast.evaluation import metrics as m
from cryptoforecast.evaluation.figures import figure as _figure
from cryptoforecast.evaluation.figures import png as _png
from cryptoforecast.evaluation.formatting import format_price, price_axis
from cryptoforecast.evaluation.report_distribution import distribution_section
from cryptoforecast.evaluation.report_verdicts import always_long, is_naive, verdict_lines
from cryptoforecast.evaluation.scorecard import TARGETS, scorecard
from cryptoforecast.exceptions import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOTS", "SECTIONS", "BacktestRun", "render_report", "write_report"]

#: image ids in the report, in order; ``importance`` only when a model has feature importance
PLOTS = ("price", "errors", "rolling_mase", "strategy", "calibration", "importance")
#: the section headings, in reading order
SECTIONS = ("Verdict", "Forecasts", "Evidence", "Tables")
_PRICE_KEYS = {"mae", "rmse", "winkler_80", "winkler_95"}
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


class FinishedBacktest(Protocol):
    """What a report reads of a ``ForecastBacktester`` (typed here, so evaluation needs no
    import of training)."""

    def calculate_aggregate_metrics(self) -> dict[str, Any]: ...


@dataclass
class BacktestRun:
    """One model's backtest: its results frame, aggregate metrics and optional importance."""

    name: str
    results: pd.DataFrame
    metrics: dict[str, Any]
    feature_importance: pd.Series | None = None

    @classmethod
    def from_backtester(cls, name: str, backtester: FinishedBacktest) -> BacktestRun:
        """Collect a finished :class:`ForecastBacktester`'s results, metrics and importance."""
        if not hasattr(backtester, "results_"):
            raise DataError("the backtester has no results; run run_walk_forward_validation first")
        return cls(
            name=name,
            results=backtester.results_,
            metrics=backtester.calculate_aggregate_metrics(),
            feature_importance=getattr(backtester, "feature_importance_", None),
        )


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------
def _coverages(results: pd.DataFrame) -> list[int]:
    tags = sorted(
        int(c.split("_")[1]) for c in results.columns if c.startswith("lower_") and c[6:].isdigit()
    )
    return [t for t in tags if f"upper_{t}" in results.columns]


def _plot_price(runs: Sequence[BacktestRun]) -> Figure:
    fig = _figure(10.0, 2.8 * len(runs) + 0.6)
    axes = fig.subplots(len(runs), 1, sharex=True, squeeze=False)[:, 0]
    for ax, run, color in zip(axes, runs, _COLORS, strict=False):
        r = run.results
        t = pd.to_datetime(r["target_time"])
        ax.plot(t, r["y_true"], color="black", lw=1.0, label="actual")
        for tag, alpha in zip(sorted(_coverages(r), reverse=True), (0.15, 0.3, 0.45), strict=False):
            ax.fill_between(
                t,
                r[f"lower_{tag}"],
                r[f"upper_{tag}"],
                color=color,
                alpha=alpha,
                lw=0,
                label=f"{tag}% interval",
            )
        ax.plot(t, r["y_pred"], color=color, lw=0.9, label=f"{run.name} forecast")
        ax.set_yscale("log")
        price_axis(ax)
        ax.set_ylabel("price")
        ax.set_title(
            f"{run.name}: forecast for the target date (h={int(r['horizon'].iloc[0])})", fontsize=10
        )
        ax.legend(loc="upper left", fontsize=8)
    return fig


def _plot_errors(runs: Sequence[BacktestRun]) -> Figure:
    fig = _figure()
    ax = fig.subplots()
    groups = _origin_groups(runs)
    series = []
    for group, grey in zip(groups, ("black", "dimgrey", "darkgrey", "silver"), strict=False):
        r0 = group[0].results
        suffix = f" h={int(r0['horizon'].iloc[0])}" if len(groups) > 1 else ""
        series.append((f"naive{suffix}", (r0["naive"] - r0["y_true"]) / r0["y_true"] * 100, grey))
    series += [  # naive itself is the baseline drawn above: not twice
        (run.name, (run.results["y_pred"] - run.results["y_true"]) / run.results["y_true"] * 100, c)
        for run, c in zip(runs, _COLORS, strict=False)
        if not is_naive(run)
    ]
    lo, hi = np.nanpercentile(np.concatenate([s.to_numpy() for _, s, _ in series]), [0.5, 99.5])
    bins = np.linspace(lo, hi, 60).tolist()
    for name, err, color in series:
        ax.hist(
            err.clip(lo, hi),
            bins=bins,
            histtype="step",
            lw=1.4,
            color=color,
            label=f"{name} (MAE {np.mean(np.abs(err)):.2f}%)",
        )
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("forecast error, % of the actual price")
    ax.set_ylabel("origins")
    ax.legend(fontsize=8)
    return fig


def _plot_rolling_mase(runs: Sequence[BacktestRun], window: int) -> Figure:
    fig = _figure()
    ax = fig.subplots()
    for run, color in zip(runs, _COLORS, strict=False):
        r = run.results.sort_values("origin")
        num = (r["y_true"] - r["y_pred"]).abs().rolling(window).mean()
        den = (r["y_true"] - r["naive"]).abs().rolling(window).mean()
        ax.plot(pd.to_datetime(r["origin"]), num / den, color=color, lw=1.0, label=run.name)
    ax.axhline(1.0, color="black", lw=1.0, ls="--", label="naive = 1")
    ax.set_ylabel(f"MASE, rolling {window} origins")
    ax.set_title("Below 1: better than the naive forecast on those origins", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _equity(pred_lr: np.ndarray, next_ret: np.ndarray, strategy: str, fee_bps: float) -> np.ndarray:
    pos = m.strategy_positions(pred_lr, strategy)  # type: ignore[arg-type]
    return np.cumprod(1.0 + m.strategy_returns(pos, next_ret, fee_bps))


def _plot_strategy(runs: Sequence[BacktestRun]) -> Figure:
    fig = _figure()
    ax = fig.subplots()
    r0 = runs[0].results.sort_values("origin")
    fee = float(runs[0].metrics.get("fee_bps", 10.0))
    ret0 = r0["next_return"].to_numpy(dtype="float64")
    bh = _equity(np.ones(len(r0)), ret0, "buy_and_hold", fee)
    ax.plot(
        pd.to_datetime(r0["origin"]),
        bh,
        color="black",
        lw=2.0,
        alpha=0.5,
        label=f"buy and hold ({bh[-1] - 1:+.0%})",
    )
    for run, color in zip(runs, _COLORS, strict=False):
        r = run.results.sort_values("origin")
        pred = r["y_pred_logret"].to_numpy(dtype="float64")
        ret = r["next_return"].to_numpy(dtype="float64")
        t = pd.to_datetime(r["origin"])
        if not np.any(pred != 0):  # naive never trades: flat at 1
            ax.plot(t, np.ones(len(t)), color=color, lw=1.0, label=f"{run.name} (no signal: flat)")
            continue
        lf, ls = _equity(pred, ret, "long_flat", fee), _equity(pred, ret, "long_short", fee)
        always = " = buy and hold: always long" if always_long(run) else ""
        ax.plot(
            t, lf, color=color, lw=1.0, label=f"{run.name} long/flat ({lf[-1] - 1:+.0%}{always})"
        )
        ax.plot(
            t, ls, color=color, lw=1.0, ls="--", label=f"{run.name} long/short ({ls[-1] - 1:+.0%})"
        )
    ax.set_yscale("log")
    price_axis(ax)
    ax.set_ylabel("growth of 1 (log scale)")
    ax.set_title(f"Sign of the forecast, held one bar, {fee:g} bps per unit traded", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside, not over, data
    return fig


def _plot_calibration(runs: Sequence[BacktestRun]) -> Figure:
    fig = _figure(5.5, 4.5)
    ax = fig.subplots()
    ax.plot([0, 100], [0, 100], color="black", lw=1.0, ls="--", label="perfect calibration")
    low = 100.0
    for i, (run, color) in enumerate(zip(runs, _COLORS, strict=False)):
        r = run.results
        tags = _coverages(r)
        emp = [
            m.interval_coverage(r["y_true"], r[f"lower_{t}"], r[f"upper_{t}"]) * 100 for t in tags
        ]
        ax.plot(tags, emp, marker="o", color=color, label=run.name)
        for x, yv in zip(tags, emp, strict=True):
            ax.annotate(
                f"{yv:.1f}%",
                (x, yv),
                textcoords="offset points",
                xytext=(6, -10 - 11 * i),  # one row of labels per model: no overlap
                fontsize=8,
                color=color,
            )
        low = min([low, *tags, *[e for e in emp if math.isfinite(e)]])
    lim = max(0.0, math.floor(low / 10.0) * 10.0 - 10.0)
    ax.set_xlim(lim, 100)
    ax.set_ylim(lim, 100)
    ax.set_xlabel("nominal coverage, %")
    ax.set_ylabel("empirical coverage, %")
    ax.legend(fontsize=8)
    return fig


def _plot_importance(runs: Sequence[BacktestRun], top: int = 20) -> Figure | None:
    have = [r for r in runs if r.feature_importance is not None and len(r.feature_importance) > 0]
    if not have:
        return None
    fig = _figure(10.0, 0.22 * top * len(have) + 1.0)
    axes = fig.subplots(len(have), 1, squeeze=False)[:, 0]
    for ax, run, color in zip(axes, have, _COLORS, strict=False):
        imp = run.feature_importance.sort_values(ascending=False).head(top)[::-1]  # type: ignore[union-attr]
        ax.barh([str(i) for i in imp.index], imp.to_numpy(), color=color)
        ax.set_title(
            f"{run.name}: top {len(imp)} features (mean normalised importance over refits)",
            fontsize=10,
        )
        ax.tick_params(axis="y", labelsize=7)
    return fig


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return "-"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}f}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"
    return html.escape(str(value))


_METRIC_ROWS = (
    ("MAE (price)", "mae"),
    ("RMSE (price)", "rmse"),
    ("MAPE %", "mape"),
    ("sMAPE %", "smape"),
    ("MASE (naive = 1)", "mase"),
    ("Theil's U2 (naive = 1)", "theils_u2"),
    ("R2 on prices", "r2_price"),
    ("R2 on log returns", "r2_logret"),
    ("Directional accuracy (ties excluded)", "directional_accuracy"),
    ("Directional binomial p vs 50%", "directional_pvalue"),
    ("Coverage of 80% interval", "coverage_80"),
    ("Coverage of 95% interval", "coverage_95"),
    ("Winkler score 80%", "winkler_80"),
    ("Winkler score 95%", "winkler_95"),
    ("Long/flat total return", "long_flat_total_return"),
    ("Long/flat Sharpe (365 d)", "long_flat_sharpe"),
    ("Long/flat Sortino (365 d)", "long_flat_sortino"),
    ("Long/flat max drawdown", "long_flat_max_drawdown"),
    ("Long/flat hit rate", "long_flat_hit_rate"),
    ("Long/flat turnover per bar", "long_flat_turnover"),
    ("Long/short total return", "long_short_total_return"),
    ("Long/short Sharpe (365 d)", "long_short_sharpe"),
    ("Long/short max drawdown", "long_short_max_drawdown"),
)
_BH_KEYS = {"total_return", "sharpe", "sortino", "max_drawdown", "hit_rate", "turnover"}


def _origin_groups(runs: Sequence[BacktestRun]) -> list[list[BacktestRun]]:
    """Runs grouped by horizon and forecast origins: one naive baseline per group."""
    groups: dict[tuple[Any, ...], list[BacktestRun]] = {}
    for run in runs:
        key = (int(run.metrics.get("horizon", 0)), tuple(pd.to_datetime(run.results["origin"])))
        groups.setdefault(key, []).append(run)
    return list(groups.values())


def _cell(metrics: Mapping[str, Any], key: str) -> str:
    value = metrics.get(key)
    return format_price(value) if key in _PRICE_KEYS and value is not None else _fmt(value)


def _metrics_table(runs: Sequence[BacktestRun]) -> str:
    """Model columns, each group followed by its naive baseline and buy-and-hold on its origins
    (a run of the naive model itself is that baseline column, not a second one)."""
    groups = _origin_groups(runs)
    columns: list[tuple[str, Any]] = []  # (header, key -> cell)
    for group in groups:
        h = group[0].metrics.get("horizon")
        for run in group:
            if is_naive(run):
                continue
            columns.append((run.name, lambda key, r=run: _cell(r.metrics["model"], key)))
        suffix = f" h={h}" if len(groups) > 1 else ""
        g0 = group[0].metrics
        columns.append((f"naive{suffix} (same origins)", lambda key, a=g0: _cell(a["naive"], key)))

        def bh_cell(key: str, a: dict[str, Any] = g0) -> str:
            sub = key.split("_", 2)[-1] if key.startswith("long_flat_") else None
            return _fmt(a.get("buy_and_hold", {}).get(sub)) if sub in _BH_KEYS else ""

        columns.append((f"buy and hold{suffix}", bh_cell))
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in columns)
    out = [f"<table><thead><tr><th>Metric</th>{head}</tr></thead><tbody>"]
    for label, key in _METRIC_ROWS:
        cells = "".join(f"<td>{cell(key)}</td>" for _, cell in columns)
        out.append(f"<tr><td>{label}</td>{cells}</tr>")
    extra = (
        ("Improvement vs naive, MAE %", "improvement_vs_naive_pct"),
        ("Diebold-Mariano statistic (<0 favours model)", "dm_statistic"),
        ("Diebold-Mariano p-value (HLN)", "dm_pvalue"),
        ("Forecasts", "n_forecasts"),
        ("Refits", "n_refits"),
    )
    by_name = {r.name: r for r in runs}
    for label, key in extra:
        cells = "".join(
            f"<td>{_fmt(by_name[name].metrics.get(key)) if name in by_name else ''}</td>"
            for name, _ in columns
        )
        out.append(f"<tr><td>{label}</td>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _scorecard_table(run: BacktestRun) -> str:
    units = {t.name: t.unit for t in TARGETS}
    rows = []
    for rec in scorecard(run.metrics).to_dict("records"):
        unit = units.get(rec["target"], "")
        if rec["passed"] is None:
            result, cls = "n/a", "na"
        elif rec["passed"]:
            result, cls = ("PASS (naive too)", "warn") if rec["naive_passes"] else ("PASS", "pass")
        else:
            result, cls = "FAIL", "fail"
        rows.append(
            f"<tr><td>{html.escape(rec['target'])}</td><td>{_fmt(rec['model'])}{unit}</td>"
            f"<td>{_fmt(rec['naive'])}{unit}</td><td class='{cls}'>{result}</td>"
            f"<td>{html.escape(rec['note'])}</td></tr>"
        )
    return (
        f"<h3>{html.escape(run.name)}</h3><table class='scorecard'><thead><tr><th>Target</th>"
        "<th>Model</th><th>Naive</th><th>Result</th><th>Note</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _fold_table(run: BacktestRun) -> str:
    folds = run.metrics.get("per_fold")
    if not isinstance(folds, pd.DataFrame) or folds.empty:
        return ""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in folds.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{_fmt(v) if not isinstance(v, pd.Timestamp) else v.date()}</td>" for v in row
        )
        + "</tr>"
        for row in folds.itertuples(index=False)
    )
    return (
        f"<details><summary>{html.escape(run.name)}: {len(folds)} folds</summary>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;
margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
.scorecard td:last-child{text-align:left}.pass{background:#d9f2d9}.fail{background:#f8d7d7}
.warn{background:#fff3cd}.na{color:#888}.verdict{font-weight:600}img{max-width:100%}
.meta{color:#555;font-size:.9em}
"""


def render_report(
    runs: BacktestRun | Sequence[BacktestRun],
    *,
    title: str = "Backtest report",
    settings: Mapping[str, Any] | None = None,
    rolling_window: int = 30,
) -> str:
    """The report as one HTML string (see module docstring); ``settings`` are listed verbatim."""
    runs = [runs] if isinstance(runs, BacktestRun) else list(runs)
    if not runs:
        raise DataError("render_report needs at least one BacktestRun")
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise DataError(f"report runs need distinct names, got {names}")
    figures: dict[str, Figure | None] = {
        "price": _plot_price(runs),
        "errors": _plot_errors(runs),
        "rolling_mase": _plot_rolling_mase(runs, rolling_window),
        "strategy": _plot_strategy(runs),
        "calibration": _plot_calibration(runs),
        "importance": _plot_importance(runs),
    }
    captions = {
        "price": "Price with forecasts and intervals",
        "errors": "Error distribution (model vs naive)",
        "rolling_mase": "Rolling MASE",
        "strategy": "Cumulative strategy return vs buy-and-hold",
        "calibration": "Interval calibration: nominal vs empirical coverage",
        "importance": "Feature importance",
    }
    a0 = runs[0].metrics
    horizons = sorted({int(r.metrics.get("horizon", 0)) for r in runs})
    meta = {
        "origins": f"{a0.get('start', '?')} .. {a0.get('end', '?')} "
        f"({a0.get('n_forecasts', '?')} forecasts)",
        "horizon" if len(horizons) == 1 else "horizons": ", ".join(map(str, horizons)),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **dict(settings or {}),
    }
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='meta'>"
        + " &middot; ".join(
            f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in meta.items()
        )
        + "</p>",
        "<p>Every figure stands beside the naive forecast (tomorrow's price = today's) on the same "
        "origins. A model that does not beat naive is reported as such.</p>",
        f"<h2>{SECTIONS[0]}</h2><ul>"
        + "".join(f"<li class='verdict'>{html.escape(line)}</li>" for line in verdict_lines(runs))
        + "</ul>",
    ]
    for key in PLOTS:
        if key == "price":
            parts.append(f"<h2>{SECTIONS[1]}</h2>")
        elif key == "errors":
            parts.append(f"<h2>{SECTIONS[2]}</h2>")
        fig = figures[key]
        if fig is None:
            parts.append(
                f"<h3>{captions[key]}</h3><p>No model in this report has a feature importance.</p>"
            )
            continue
        parts.append(
            f"<h3>{captions[key]}</h3><img id='plot-{key}' alt='{captions[key]}' "
            f"src='data:image/png;base64,{_png(fig)}'>"
        )
    parts.append(distribution_section(runs))  # evidence too, before the tables
    parts += [
        f"<h2>{SECTIONS[3]}</h2>",
        "<h3>Metrics</h3>",
        _metrics_table(runs),
        "<h3>Honesty scorecard</h3>",
        "".join(_scorecard_table(r) for r in runs),
        "<h3>Per-fold results</h3>",
        "".join(_fold_table(r) for r in runs),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(
    path: str | Path, runs: BacktestRun | Sequence[BacktestRun], **kwargs: Any
) -> Path:
    """Render the report and write it (parent directories created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(runs, **kwargs)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
