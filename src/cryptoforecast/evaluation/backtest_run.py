"""A backtest as the report reads it: :class:`BacktestRun` (one model's results frame, aggregate
metrics and optional feature importance), and the runs grouped by horizon and origins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from cryptoforecast.exceptions import DataError

__all__ = ["BacktestRun", "FinishedBacktest", "origin_groups"]


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


def origin_groups(runs: Sequence[BacktestRun]) -> list[list[BacktestRun]]:
    """Runs grouped by horizon and forecast origins: one naive baseline per group."""
    groups: dict[tuple[Any, ...], list[BacktestRun]] = {}
    for run in runs:
        key = (int(run.metrics.get("horizon", 0)), tuple(pd.to_datetime(run.results["origin"])))
        groups.setdefault(key, []).append(run)
    return list(groups.values())
