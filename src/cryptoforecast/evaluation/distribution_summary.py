"""The ``"distribution"`` block of the backtest metrics: every score beside the baselines'.

:func:`summarise_distribution` reads the backtest results columns written for a predictive
distribution (``q_<level>``, ``p_up``, ``pit``, ``crps``, ``crps_<baseline>``, ``vol_ref``) and
scores them on the origins where the model and every baseline have a CRPS.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.evaluation.metrics import interval_coverage, winkler_score
from cryptoforecast.evaluation.scoring import (
    brier_climatology,
    brier_score,
    christoffersen_test,
    dm_crps,
    kupiec_test,
    pinball_loss,
    pit_histogram,
    quantile_coverage,
)

__all__ = ["BASELINE_NAMES", "summarise_distribution"]

BASELINE_NAMES: tuple[str, ...] = ("rolling_gaussian", "ewma_t", "garch_ref")
_VAR_LEVELS = (0.05, 0.025)


def _levels(results: pd.DataFrame) -> dict[float, str]:
    out = {}
    for col in results.columns:
        if col.startswith("q_"):
            try:
                out[float(col[2:])] = col
            except ValueError:
                continue
    return dict(sorted(out.items()))


def _central(results: pd.DataFrame, levels: dict[float, str], coverage: float) -> tuple[str, str]:
    lo, hi = round((1 - coverage) / 2, 6), round((1 + coverage) / 2, 6)
    match = {round(k, 6): v for k, v in levels.items()}
    return match.get(lo, ""), match.get(hi, "")


def _band_scores(frame: pd.DataFrame, levels: dict[float, str], y: np.ndarray) -> dict[str, float]:
    out = {}
    for cov in (0.8, 0.95):
        lo, hi = _central(frame, levels, cov)
        out[f"{round(cov * 100):d}"] = (
            interval_coverage(y, frame[lo], frame[hi]) if lo and hi and len(y) else math.nan
        )
    return out


def _pct(model: float, base: float) -> float:
    return 100.0 * (1.0 - model / base) if base > 0 else math.nan


def summarise_distribution(
    results: pd.DataFrame, horizon: int, model: str | None = None
) -> dict[str, Any]:
    """Scores of the distribution in ``results`` (see module docstring) and its skill against
    ``rolling_gaussian``, ``ewma_t`` and ``garch_ref`` on the origins where each was scored (DM
    test on CRPS; ``garch_ref`` needs 500 daily returns, so its ``n`` may be smaller)."""
    levels = _levels(results)
    cols = ["crps", "y_true_logret"]
    ok = results[cols].notna().all(axis=1) & results[list(levels.values())].notna().all(axis=1)
    frame = results.loc[ok]
    y = frame["y_true_logret"].to_numpy(dtype="float64")
    out: dict[str, Any] = {"model": model, "n": int(len(frame))}
    if frame.empty:
        out["reason"] = "no origin has the distribution scored"
        return out
    crps = frame["crps"].to_numpy(dtype="float64")
    out["crps"] = float(crps.mean())
    out["pinball"] = {f"{k:g}": pinball_loss(y, frame[c], k) for k, c in levels.items()}
    out["quantile_coverage"] = {f"{k:g}": quantile_coverage(y, frame[c]) for k, c in levels.items()}
    out["coverage"] = _band_scores(frame, levels, y)
    for cov in (0.8, 0.95):
        lo, hi = _central(frame, levels, cov)
        out[f"winkler_{round(cov * 100):d}"] = (
            winkler_score(y, frame[lo], frame[hi], cov) if lo and hi else math.nan
        )
    up = (y > 0).astype("float64")
    model_brier = brier_score(frame["p_up"].to_numpy(dtype="float64"), up)
    clim = brier_climatology(up)
    out["brier_up"] = {
        "model": model_brier,
        "climatology": clim,
        "skill_pct": _pct(model_brier, clim),
    }
    out["kupiec_p"], out["christoffersen_p"] = {}, {}
    for var in _VAR_LEVELS:
        col = levels.get(var)
        if col is None:
            continue
        hits = y < frame[col].to_numpy(dtype="float64")
        out["kupiec_p"][f"{var:g}"] = kupiec_test(hits, var).pvalue
        out["christoffersen_p"][f"{var:g}"] = christoffersen_test(hits, var).pvalue
    if "pit" in frame.columns:
        out["pit_histogram"] = [float(v) for v in pit_histogram(frame["pit"].dropna(), 10)]
    if "vol_ref" in frame.columns:
        terciles = pd.qcut(frame["vol_ref"], 3, labels=["low", "mid", "high"])
        out["coverage_by_vol_tercile"] = {
            str(t): _band_scores(frame.loc[terciles == t], levels, y[(terciles == t).to_numpy()])
            for t in ("low", "mid", "high")
        }
    out["skill"] = {}
    for base in BASELINE_NAMES:
        column = f"crps_{base}"
        base_crps = frame[column].to_numpy(dtype="float64") if column in frame else np.array([])
        both = np.isfinite(base_crps)  # garch_ref needs 500 returns: early origins lack it
        if both.sum() < 2:
            out["skill"][base] = {
                "n": int(both.sum()),
                "crps": math.nan,
                "crps_skill_pct": math.nan,
                "dm_pvalue": math.nan,
                "reason": f"{base} was not scored on these origins (too little history)",
            }
            continue
        dm = dm_crps(crps[both], base_crps[both], int(horizon))
        out["skill"][base] = {
            "n": int(both.sum()),
            "crps": float(base_crps[both].mean()),
            "crps_skill_pct": _pct(float(crps[both].mean()), float(base_crps[both].mean())),
            "dm_pvalue": dm.pvalue,
        }
    return out
