"""The report's predictive-distribution section (runs backtested with ``distribution=NAME``):
a fan chart of the price quantiles over the backtest, the PIT histogram, coverage by volatility
tercile and the CRPS-skill table against rolling_gaussian, ewma_t and garch_ref; for the served
replay also the served distribution's CRPS, coverage and PIT beside each baseline's."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.distribution_summary import BASELINE_NAMES
from cryptoforecast.evaluation.figures import date_axis, figure, png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["distribution_section", "fan_figure"]

_BANDS = ((0.025, 0.975, 0.15), (0.1, 0.9, 0.3), (0.25, 0.75, 0.45))


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "<td class='na'>n/a</td>"
    return f"<td>{format(value, fmt)}</td>"


def fan_figure(run: BacktestRun) -> Figure:
    """The price quantiles over the backtest: one fan (its bands share one legend entry), the
    median and the actual price, on a date axis."""
    res = run.results
    fig = figure(10.0, 3.6)
    ax = fig.add_subplot()
    x = pd.to_datetime(res["target_time"])
    bands = [
        (lo, hi, a) for lo, hi, a in _BANDS if f"price_q_{lo:g}" in res and f"price_q_{hi:g}" in res
    ]
    label = "/".join(f"{round((hi - lo) * 100)}" for lo, hi, _ in bands) + "% bands"
    for i, (lo, hi, alpha) in enumerate(bands):
        ax.fill_between(
            x,
            res[f"price_q_{lo:g}"],
            res[f"price_q_{hi:g}"],
            alpha=alpha,
            color="#1f77b4",
            lw=0,
            label=label if i == 0 else "_nolegend_",
        )
    if "price_q_0.5" in res:
        ax.plot(x, res["price_q_0.5"], color="#1f77b4", lw=1.0, label="median")
    ax.plot(x, res["y_true"], color="black", lw=1.0, label="actual")
    date_axis(ax)
    ax.set_title(f"{run.name}: predictive quantiles at the target date")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def _fan(run: BacktestRun) -> str:
    return png(fan_figure(run))


def _pit(run: BacktestRun) -> str:
    fig = figure(5.0, 3.0)
    ax = fig.add_subplot()
    pit = run.results["pit"].dropna().to_numpy()
    ax.hist(
        pit,
        bins=10,
        range=(0, 1),
        weights=np.full(pit.size, 1 / max(pit.size, 1)),
        color="#1f77b4",
        edgecolor="white",
    )
    ax.axhline(0.1, color="black", ls="--", lw=1.0, label="calibrated (flat)")
    ax.set_title(f"{run.name}: PIT histogram")
    ax.legend(fontsize=8)
    return png(fig)


def _beside(block: dict[str, Any]) -> str:
    """The distribution's coverage and PIT beside each baseline's on the same origins."""
    bases = block.get("baselines", {})
    rows = [
        "<table class='beside-baselines'><tr><th>distribution (same origins)</th><th>origins</th>"
        "<th>CRPS</th><th>80% coverage</th><th>95% coverage</th><th>PIT mean</th>"
        "<th>PIT histogram (10 bins)</th></tr>"
    ]
    for name, b in (("served", block), *((f"baseline: {k}", v) for k, v in bases.items())):
        hist = " ".join(f"{v:.2f}" for v in b.get("pit_histogram", []))
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{int(b.get('n', 0))}</td>"
            f"{_cell(b.get('crps'), '.5f')}{_cell(b.get('coverage', {}).get('80'), '.1%')}"
            f"{_cell(b.get('coverage', {}).get('95'), '.1%')}{_cell(b.get('pit_mean'), '.3f')}"
            f"<td>{hist or 'n/a'}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _tables(run: BacktestRun, block: dict[str, Any]) -> str:
    rows = [_beside(block)] if block.get("baselines") else []
    rows.append(
        "<table><tr><th>volatility tercile</th><th>80% coverage</th><th>95% coverage</th></tr>"
    )
    rows.append(
        "<tr><td>all</td>"
        + _cell(block.get("coverage", {}).get("80"), ".1%")
        + _cell(block.get("coverage", {}).get("95"), ".1%")
        + "</tr>"
    )
    for t, cov in block.get("coverage_by_vol_tercile", {}).items():
        rows.append(
            f"<tr><td>{t}</td>{_cell(cov.get('80'), '.1%')}{_cell(cov.get('95'), '.1%')}</tr>"
        )
    rows.append("</table>")
    rows.append(
        "<table><tr><th>against</th><th>its CRPS</th><th>model CRPS</th><th>CRPS skill %</th>"
        "<th>DM p-value</th></tr>"
    )
    for base in BASELINE_NAMES:
        s = block.get("skill", {}).get(base, {})
        rows.append(
            f"<tr><td>{base}</td>{_cell(s.get('crps'), '.5f')}{_cell(block.get('crps'), '.5f')}"
            f"{_cell(s.get('crps_skill_pct'), '+.2f')}{_cell(s.get('dm_pvalue'), '.3g')}</tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def distribution_section(runs: Sequence[BacktestRun]) -> str:
    """HTML for every run that has a distribution block; empty when none has."""
    parts = []
    for run in runs:
        block = run.metrics.get("distribution")
        if not block or "crps" not in block:
            continue
        name = html.escape(run.name)
        parts += [
            f"<h2>Predictive distribution: {name} ({html.escape(str(block.get('model')))})</h2>",
            "<p>Scored by CRPS against the simple distributions on the same origins; a positive "
            "skill means a lower CRPS than that baseline.</p>",
            _tables(run, block),
            f"<img id='plot-fan-{name}' alt='fan chart' src='data:image/png;base64,{_fan(run)}'>",
            f"<img id='plot-pit-{name}' alt='PIT histogram' "
            f"src='data:image/png;base64,{_pit(run)}'>",
        ]
    return "\n".join(parts)
