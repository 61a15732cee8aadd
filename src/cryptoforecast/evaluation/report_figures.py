"""The report's figures (matplotlib, drawn lazily): price with forecasts and intervals, the error
distribution beside naive, rolling MASE, strategy growth beside buy-and-hold, interval
calibration and feature importance, each keyed by its image id in :data:`PLOTS`.

Readable at any number of models: every time axis carries its dates, and no axes draws more than
four series: the comparisons are small multiples, one panel per model beside its bar (naive,
buy-and-hold, perfect calibration)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cryptoforecast.evaluation import metrics as m
from cryptoforecast.evaluation.backtest_run import BacktestRun, origin_groups
from cryptoforecast.evaluation.figures import date_axis, figure, panels
from cryptoforecast.evaluation.formatting import price_axis
from cryptoforecast.evaluation.report_verdicts import always_long, is_naive, run_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CAPTIONS",
    "PLOTS",
    "plot_calibration",
    "plot_errors",
    "plot_importance",
    "plot_price",
    "plot_rolling_mase",
    "plot_strategy",
    "report_figures",
]

#: image ids in the report, in order; ``importance`` only when a model has feature importance
PLOTS = ("price", "errors", "rolling_mase", "strategy", "calibration", "importance")
CAPTIONS = {
    "price": "Price with forecasts and intervals",
    "errors": "Error distribution (model vs naive)",
    "rolling_mase": "Rolling MASE",
    "strategy": "Cumulative strategy return vs buy-and-hold",
    "calibration": "Interval calibration: nominal vs empirical coverage",
    "importance": "Feature importance",
}
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _coverages(results: pd.DataFrame) -> list[int]:
    tags = sorted(
        int(c.split("_")[1]) for c in results.columns if c.startswith("lower_") and c[6:].isdigit()
    )
    return [t for t in tags if f"upper_{t}" in results.columns]


def _models(runs: Sequence[BacktestRun]) -> list[BacktestRun]:
    """The runs drawn in a panel each beside naive: every run but naive itself (naive alone when
    the report holds only naive runs)."""
    return [r for r in runs if not is_naive(r)] or list(runs)


def plot_price(runs: Sequence[BacktestRun]) -> Figure:
    fig = figure(10.0, 2.8 * len(runs) + 0.6)
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
        date_axis(ax)
        ax.set_ylabel("price")
        ax.set_title(
            f"{run.name}: forecast for the target date (h={int(r['horizon'].iloc[0])})", fontsize=10
        )
        ax.legend(loc="upper left", fontsize=8)
    return fig


def _pct_error(results: pd.DataFrame, column: str) -> pd.Series:
    return (results[column] - results["y_true"]) / results["y_true"] * 100


def plot_errors(runs: Sequence[BacktestRun]) -> Figure:
    """One panel per model: its error histogram beside naive's on the same origins."""
    shown = _models(runs)
    axes = panels(len(shown), 2.8)
    for ax, run, color in zip(axes, shown, _COLORS, strict=False):
        r = run.results
        series = [("naive", _pct_error(r, "naive"), "black")]
        if not is_naive(run):  # naive itself is the baseline drawn already: not twice
            series.append((run.name, _pct_error(r, "y_pred"), color))
        lo, hi = np.nanpercentile(np.concatenate([e.to_numpy() for _, e, _ in series]), [0.5, 99.5])
        bins = np.linspace(lo, hi, 40).tolist()
        for name, err, c in series:
            ax.hist(
                err.clip(lo, hi),
                bins=bins,
                histtype="step",
                lw=1.4,
                color=c,
                label=f"{name} (MAE {np.mean(np.abs(err)):.2f}%)",
            )
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(run_label(run), fontsize=10)
        ax.set_xlabel("forecast error, % of the actual price", fontsize=8)
        ax.set_ylabel("origins", fontsize=8)
        ax.legend(fontsize=7)
    return axes[0].get_figure()  # type: ignore[return-value]


def plot_rolling_mase(runs: Sequence[BacktestRun], window: int) -> Figure:
    """One panel per model: its rolling MASE against naive's line at 1."""
    shown = _models(runs)
    axes = panels(len(shown), 2.6)
    for ax, run, color in zip(axes, shown, _COLORS, strict=False):
        r = run.results.sort_values("origin")
        num = (r["y_true"] - r["y_pred"]).abs().rolling(window).mean()
        den = (r["y_true"] - r["naive"]).abs().rolling(window).mean()
        ax.plot(pd.to_datetime(r["origin"]), num / den, color=color, lw=1.0, label=run.name)
        ax.axhline(1.0, color="black", lw=1.0, ls="--", label="naive = 1")
        date_axis(ax)
        ax.set_ylabel(f"MASE, rolling {window}", fontsize=8)
        ax.set_title(f"{run_label(run)}: below 1 beats naive on those origins", fontsize=10)
        ax.legend(fontsize=7)
    return axes[0].get_figure()  # type: ignore[return-value]


def _equity(pred_lr: np.ndarray, next_ret: np.ndarray, strategy: str, fee_bps: float) -> np.ndarray:
    pos = m.strategy_positions(pred_lr, strategy)  # type: ignore[arg-type]
    return np.cumprod(1.0 + m.strategy_returns(pos, next_ret, fee_bps))


def plot_strategy(runs: Sequence[BacktestRun]) -> Figure:
    """One panel per model: its long/flat and long/short growth beside buy-and-hold."""
    shown = _models(runs)
    fee = float(runs[0].metrics.get("fee_bps", 10.0))
    axes = panels(len(shown), 2.8)
    for ax, run, color in zip(axes, shown, _COLORS, strict=False):
        r = run.results.sort_values("origin")
        pred = r["y_pred_logret"].to_numpy(dtype="float64")
        ret = r["next_return"].to_numpy(dtype="float64")
        t = pd.to_datetime(r["origin"])
        bh = _equity(np.ones(len(r)), ret, "buy_and_hold", fee)
        ax.plot(t, bh, color="black", lw=2.0, alpha=0.5, label=f"buy and hold ({bh[-1] - 1:+.0%})")
        if not np.any(pred != 0):  # naive never trades: flat at 1
            ax.plot(t, np.ones(len(t)), color=color, lw=1.0, label=f"{run.name} (no signal: flat)")
        else:
            lf, ls = _equity(pred, ret, "long_flat", fee), _equity(pred, ret, "long_short", fee)
            always = " = buy and hold" if always_long(run) else ""
            ax.plot(t, lf, color=color, lw=1.0, label=f"long/flat ({lf[-1] - 1:+.0%}{always})")
            ax.plot(t, ls, color=color, lw=1.0, ls="--", label=f"long/short ({ls[-1] - 1:+.0%})")
        ax.set_yscale("log")
        price_axis(ax)
        date_axis(ax)
        ax.set_ylabel("growth of 1 (log)", fontsize=8)
        ax.set_title(run_label(run), fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    fig = axes[0].get_figure()
    fig.suptitle(  # type: ignore[union-attr]
        f"Sign of the forecast, held one bar, {fee:g} bps per unit traded", fontsize=10
    )
    return fig  # type: ignore[return-value]


def _calibration_points(run: BacktestRun) -> tuple[list[int], list[float]]:
    r = run.results
    tags = _coverages(r)
    return tags, [
        m.interval_coverage(r["y_true"], r[f"lower_{t}"], r[f"upper_{t}"]) * 100 for t in tags
    ]


def plot_calibration(runs: Sequence[BacktestRun]) -> Figure:
    """One panel per model: its empirical coverage (labelled) beside naive's on the same
    origins; one labelled line per panel, so the labels cannot collide."""
    shown = _models(runs)
    naive_of = {
        id(run): next((g for g in group if is_naive(g)), None)
        for group in origin_groups(runs)
        for run in group
    }
    axes = panels(len(shown), 4.0)
    points = {id(r): _calibration_points(r) for r in runs}
    finite = [v for tags, emp in points.values() for v in (*tags, *emp) if math.isfinite(v)]
    lim = max(0.0, math.floor(min([100.0, *finite]) / 10.0) * 10.0 - 10.0)
    for ax, run, color in zip(axes, shown, _COLORS, strict=False):
        ax.plot([0, 100], [0, 100], color="black", lw=1.0, ls="--", label="perfect calibration")
        base = naive_of.get(id(run))
        if base is not None and base is not run:
            ax.plot(*points[id(base)], marker="o", ms=3, color="grey", lw=1.0, label=base.name)
        tags, emp = points[id(run)]
        ax.plot(tags, emp, marker="o", color=color, label=run.name)
        for x, yv in zip(tags, emp, strict=True):
            ax.annotate(
                f"{yv:.1f}%",
                (x, yv),
                textcoords="offset points",
                xytext=(-5, 5),  # above-left of its point, inside the axes
                ha="right",
                fontsize=8,
                color=color,
            )
        ax.set_xlim(lim, 100)
        ax.set_ylim(lim, 100)
        ax.set_title(run_label(run), fontsize=10)
        ax.set_xlabel("nominal coverage, %", fontsize=8)
        ax.set_ylabel("empirical coverage, %", fontsize=8)
        ax.legend(fontsize=7, loc="lower right")
    return axes[0].get_figure()  # type: ignore[return-value]


def plot_importance(runs: Sequence[BacktestRun], top: int = 20) -> Figure | None:
    have = [r for r in runs if r.feature_importance is not None and len(r.feature_importance) > 0]
    if not have:
        return None
    fig = figure(10.0, 0.22 * top * len(have) + 1.0)
    axes = fig.subplots(len(have), 1, squeeze=False)[:, 0]
    for ax, run, color in zip(axes, have, _COLORS, strict=False):
        imp = run.feature_importance.sort_values(ascending=False).head(top)[::-1]  # type: ignore[union-attr]
        ax.barh([str(i) for i in imp.index], imp.to_numpy(), color=color, label=run.name)
        ax.set_title(
            f"{run.name}: top {len(imp)} features (mean normalised importance over refits)",
            fontsize=10,
        )
        ax.tick_params(axis="y", labelsize=7)
    return fig


def report_figures(runs: Sequence[BacktestRun], rolling_window: int) -> dict[str, Figure | None]:
    """Every figure of :data:`PLOTS` (``importance`` is ``None`` when no run has one)."""
    return {
        "price": plot_price(runs),
        "errors": plot_errors(runs),
        "rolling_mase": plot_rolling_mase(runs, rolling_window),
        "strategy": plot_strategy(runs),
        "calibration": plot_calibration(runs),
        "importance": plot_importance(runs),
    }
