"""The honesty scorecard: the original design's targets, each beside the naive forecast's value.

A target that naive passes too (R2 on price levels is the classic case: tomorrow's price is close
to today's) proves nothing about skill, so it is flagged. R2 is shown on prices and on h-step log
returns; only the latter measures skill.

``scorecard(aggregate_metrics)`` returns a DataFrame (``scorecard_records`` the same as a list of
dicts), ``scorecard_table(card)`` a Rich table, ``verdict(aggregate_metrics)`` one honest line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from cryptoforecast.exceptions import DataError

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "TARGETS",
    "Target",
    "is_naive_name",
    "scorecard",
    "scorecard_records",
    "scorecard_table",
    "verdict",
]

#: the targets that compare the model with naive: meaningless for naive itself
_RELATIVE = ("improvement_vs_naive_pct", "dm_pvalue")
_ITSELF = "naive itself: the bar every model is measured against"


@dataclass(frozen=True)
class Target:
    """One design target: ``value(metric) <op> threshold``, optionally for one horizon only."""

    name: str
    metric: str
    op: str  # "<", ">", ">="
    threshold: float
    horizon: int | None = None
    scale: float = 1.0  # multiply the stored metric (e.g. fraction -> percent)
    unit: str = ""


TARGETS: tuple[Target, ...] = (
    Target("MAPE < 5% (1 day)", "mape", "<", 5.0, horizon=1, unit="%"),
    Target("MAPE < 10% (7 days)", "mape", "<", 10.0, horizon=7, unit="%"),
    Target("Beats naive by 30%+ (MAE)", "improvement_vs_naive_pct", ">=", 30.0, unit="%"),
    Target("Directional accuracy > 60%", "directional_accuracy", ">", 60.0, scale=100.0, unit="%"),
    Target("R2 > 0.80 on prices", "r2_price", ">", 0.80),
    Target("R2 > 0.80 on log returns", "r2_logret", ">", 0.80),
    Target("Better than naive (DM p < 0.05)", "dm_pvalue", "<", 0.05),
)


def is_naive_name(name: object) -> bool:
    """The model named is the naive baseline itself (``naive`` or ``naive h=7``)."""
    return str(name).split(" ")[0] == "naive"


def _passes(value: float, op: str, threshold: float) -> bool:
    if value is None or not math.isfinite(value):
        return False
    if op == "<":
        return value < threshold
    if op == ">":
        return value > threshold
    return value >= threshold


def _values(agg: dict[str, Any], t: Target) -> tuple[float, float]:
    """(model value, naive value) of a target's metric."""
    if t.metric == "improvement_vs_naive_pct":
        return float(agg["improvement_vs_naive_pct"]), 0.0
    if t.metric == "dm_pvalue":
        return float(agg.get("dm_pvalue", math.nan)), math.nan
    return float(agg["model"].get(t.metric, math.nan)) * t.scale, float(
        agg["naive"].get(t.metric, math.nan)
    ) * t.scale


def scorecard_records(aggregate_metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The scorecard as plain dicts (JSON-friendly); see :func:`scorecard`."""
    if not isinstance(aggregate_metrics, dict) or "model" not in aggregate_metrics:
        raise DataError(
            "scorecard needs the dict calculate_aggregate_metrics() returns (with 'model' and "
            f"'naive' entries), got {type(aggregate_metrics).__name__}"
        )
    h = int(aggregate_metrics.get("horizon", 1))
    itself = is_naive_name(aggregate_metrics.get("model_type", ""))
    rows: list[dict[str, Any]] = []
    for t in TARGETS:
        value, naive = _values(aggregate_metrics, t)
        applicable = t.horizon is None or t.horizon == h
        passed = _passes(value, t.op, t.threshold) if applicable else None
        if t.metric == "dm_pvalue" and passed:
            # only a significant difference *in the model's favour* counts
            passed = aggregate_metrics.get("dm_favours") == "model"
        naive_passes = _passes(naive, t.op, t.threshold) if applicable and not itself else None
        notes = []
        if itself and t.metric in _RELATIVE:  # naive is never compared with itself
            rows.append(
                {
                    "target": t.name,
                    "metric": t.metric,
                    "threshold": t.threshold,
                    "model": math.nan,
                    "naive": naive,
                    "applicable": False,
                    "passed": None,
                    "naive_passes": None,
                    "note": _ITSELF,
                }
            )
            continue
        if not applicable:
            notes.append(f"applies to horizon {t.horizon}; this backtest is horizon {h}")
        elif naive_passes:
            notes.append("naive passes too: this target shows no skill")
        if t.metric == "directional_accuracy" and applicable:
            p = aggregate_metrics["model"].get("directional_pvalue", math.nan)
            notes.append(
                f"binomial p = {p:.3g} vs 50%" if math.isfinite(p) else "no decided directions"
            )
            up = aggregate_metrics["model"].get("up_share", math.nan)
            if math.isfinite(up):
                notes.append(f"always-up would score {up:.0%}")
        if t.metric == "dm_pvalue":
            reason = aggregate_metrics.get("dm_reason")
            raw = aggregate_metrics.get("dm_pvalue", math.nan)
            if reason:
                notes.append(str(reason))
            elif aggregate_metrics.get("dm_favours") != "model":
                notes.append(f"losses favour naive (p = {raw:.3g})")
        rows.append(
            {
                "target": t.name,
                "metric": t.metric,
                "threshold": t.threshold,
                "model": value,
                "naive": naive,
                "applicable": applicable,
                "passed": passed,
                "naive_passes": naive_passes,
                "note": "; ".join(notes),
            }
        )
    return rows


def scorecard(aggregate_metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per design target: model value, naive value, pass/fail, naive-passes-too flag.

    Columns: ``target metric threshold model naive applicable passed naive_passes note``;
    ``passed`` is ``None`` for a target of another horizon (e.g. the 7-day MAPE on h=1).
    """
    return pd.DataFrame(scorecard_records(aggregate_metrics))


def verdict(aggregate_metrics: dict[str, Any]) -> str:
    """One line: does the model beat naive on these origins, by MAE/MASE and the DM test?"""
    mase = float(aggregate_metrics["model"].get("mase", math.nan))
    p = float(aggregate_metrics.get("dm_pvalue", math.nan))
    name = aggregate_metrics.get("model_type", "model")
    if is_naive_name(name):
        return f"{name}: the bar every model is measured against (no-change forecast, MASE 1)"
    if not math.isfinite(mase):
        return f"{name}: MASE undefined (naive error is zero)"
    if mase < 1 and aggregate_metrics.get("dm_favours") == "model" and p < 0.05:
        return f"{name} beats naive: MASE {mase:.3f}, DM p = {p:.3g}"
    if mase < 1:
        return f"{name} edges naive (MASE {mase:.3f}) but not significantly (DM p = {p:.3g})"
    return f"{name} does NOT beat naive: MASE {mase:.3f} (>= 1 means no better than no-change)"


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}{unit}" if abs(value) < 10 else f"{value:.1f}{unit}"
    return str(value)


def scorecard_table(card: pd.DataFrame | dict[str, Any], title: str = "Honesty scorecard") -> Table:
    """A Rich table of a scorecard (or of the aggregate metrics dict, scored first)."""
    from rich.table import Table

    frame = scorecard(card) if isinstance(card, dict) else card
    units = {t.name: t.unit for t in TARGETS}
    table = Table(title=title)
    for col, justify in (
        ("Target", "left"),
        ("Model", "right"),
        ("Naive", "right"),
        ("Result", "center"),
        ("Note", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in frame.to_dict("records"):
        unit = units.get(row["target"], "")
        if row["passed"] is None:
            result = "[dim]n/a[/dim]"
        elif row["passed"]:
            result = "[green]PASS[/green]" + (
                " [yellow](naive too)[/yellow]" if row["naive_passes"] else ""
            )
        else:
            result = "[red]FAIL[/red]"
        table.add_row(
            row["target"], _fmt(row["model"], unit), _fmt(row["naive"], unit), result, row["note"]
        )
    return table
