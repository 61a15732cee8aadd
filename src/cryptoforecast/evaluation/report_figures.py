"""The report's figures (matplotlib, drawn lazily): price with forecasts and intervals, the error
distribution beside naive, rolling MASE, strategy growth beside buy-and-hold, interval
calibration and feature importance, each keyed by its image id in :data:`PLOTS`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cryptoforecast.evaluation import metrics as m
from cryptoforecast.evaluation.backtest_run import BacktestRun, origin_groups
from cryptoforecast.evaluation.figures import figure
from cryptoforecast.evaluation.formatting import price_axis
from cryptoforecast.evaluation.report_verdicts import always_long, is_naive

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
        ax.set_ylabel("price")
        ax.set_title(
            f"{run.name}: forecast for the target date (h={int(r['horizon'].iloc[0])})", fontsize=10
        )
        ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_errors(runs: Sequence[BacktestRun]) -> Figure:
    fig = figure()
    ax = fig.subplots()
    groups = origin_groups(runs)
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


def plot_rolling_mase(runs: Sequence[BacktestRun], window: int) -> Figure:
    fig = figure()
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


def plot_strategy(runs: Sequence[BacktestRun]) -> Figure:
    fig = figure()
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


def plot_calibration(runs: Sequence[BacktestRun]) -> Figure:
    fig = figure(5.5, 4.5)
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


def plot_importance(runs: Sequence[BacktestRun], top: int = 20) -> Figure | None:
    have = [r for r in runs if r.feature_importance is not None and len(r.feature_importance) > 0]
    if not have:
        return None
    fig = figure(10.0, 0.22 * top * len(have) + 1.0)
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
