"""The report's tables as HTML: metrics beside the naive baseline and buy-and-hold on the same
origins, the honesty scorecard of each run, and the per-fold results."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.evaluation.backtest_run import BacktestRun, origin_groups
from cryptoforecast.evaluation.formatting import format_price
from cryptoforecast.evaluation.report_verdicts import is_naive
from cryptoforecast.evaluation.scorecard import TARGETS, scorecard

__all__ = ["folds_html", "metrics_html", "scorecard_html"]

_PRICE_KEYS = {"mae", "rmse", "winkler_80", "winkler_95"}


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


def _cell(metrics: Mapping[str, Any], key: str) -> str:
    value = metrics.get(key)
    return format_price(value) if key in _PRICE_KEYS and value is not None else _fmt(value)


def metrics_html(runs: Sequence[BacktestRun]) -> str:
    """Model columns, each group followed by its naive baseline and buy-and-hold on its origins
    (a run of the naive model itself is that baseline column, not a second one)."""
    groups = origin_groups(runs)
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


def scorecard_html(run: BacktestRun) -> str:
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


def folds_html(run: BacktestRun) -> str:
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
