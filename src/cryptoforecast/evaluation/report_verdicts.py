"""The report's first section: one verdict sentence per model and horizon, in reading order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.scorecard import is_naive_name, verdict

__all__ = ["always_long", "is_naive", "run_label", "verdict_lines"]


def is_naive(run: BacktestRun) -> bool:
    """The run is the naive model itself (named ``naive`` or ``naive h=7``)."""
    return is_naive_name(run.name)


def run_label(run: BacktestRun) -> str:
    """The run's name with its horizon (``lightgbm h=7``) unless the name has it already."""
    h = int(run.metrics.get("horizon", 0))
    return run.name if f"h={h}" in run.name else f"{run.name} h={h}"


def always_long(run: BacktestRun) -> bool:
    """The model forecast a rise at every origin: its long/flat strategy is buy-and-hold."""
    pred = run.results["y_pred_logret"].to_numpy(dtype="float64")
    return bool(len(pred)) and bool(np.all(pred > 0))


def verdict_lines(runs: Sequence[BacktestRun]) -> list[str]:
    """One sentence per model and horizon (models first, the naive baseline last), then a note
    for every model that was long at every origin (its long/flat strategy is buy-and-hold)."""
    ordered = sorted(runs, key=lambda r: (is_naive(r), int(r.metrics.get("horizon", 0))))
    lines = []
    for run in ordered:
        if is_naive(run):
            lines.append(f"{run_label(run)}: the baseline every model here is measured against.")
        else:
            lines.append(verdict({**run.metrics, "model_type": run_label(run)}))
    lines += [
        f"{run_label(r)} forecast a rise at every origin, so its long/flat strategy is "
        "buy-and-hold, not a trading signal."
        for r in ordered
        if not is_naive(r) and always_long(r)
    ]
    return lines
