"""Probabilities read off any forecaster's quantiles: ``p_up`` and ``p_move(threshold)``.

Every forecaster predicts quantiles of the ``h``-step log return (``predict_quantiles``); the
CDF at a point ``x`` is the level at which the quantile function crosses ``x``, interpolated
linearly between the levels of a dense grid (0.005 to 0.995 in steps of 0.005). Outside the
grid the probability is the grid's end level, so a probability is never claimed more sharply
than 0.5% from 0 or 1. :class:`QuantileProbabilities` gives a class these methods from its own
``predict_quantiles``; models with a parametric distribution may override them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cryptoforecast.exceptions import DataError

__all__ = ["PROBABILITY_GRID", "QuantileProbabilities", "cdf_from_quantiles", "check_threshold"]

#: quantile levels the probabilities are read from
PROBABILITY_GRID: tuple[float, ...] = tuple(np.round(np.linspace(0.005, 0.995, 199), 6))


def cdf_from_quantiles(quantiles: pd.DataFrame, x: float) -> NDArray[np.float64]:
    """``P(r <= x)`` per row of ``quantiles`` (float-labelled level columns, non-crossing rows)."""
    levels = np.asarray([float(c) for c in quantiles.columns], dtype="float64")
    order = np.argsort(levels)
    levels = levels[order]
    q = np.sort(quantiles.to_numpy(dtype="float64")[:, order], axis=1)
    out = np.empty(len(q))
    for i, row in enumerate(q):
        # the largest level whose quantile is <= x, interpolated to the next (flat runs: right end)
        k = int(np.searchsorted(row, x, side="right"))
        if k == 0:
            out[i] = levels[0]
        elif k == len(row):
            out[i] = levels[-1]
        else:
            lo, hi = row[k - 1], row[k]
            w = 0.0 if hi <= lo else (x - lo) / (hi - lo)
            out[i] = levels[k - 1] + w * (levels[k] - levels[k - 1])
    return out


def check_threshold(threshold: Any) -> float:
    """A move threshold as a positive log return, or :class:`DataError`."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0 or not np.isfinite(value):
        raise DataError(
            f"threshold must be a positive h-step log return (e.g. 0.1 for about 10%), got "
            f"{threshold!r}"
        )
    return value


class QuantileProbabilities:
    """``p_up`` and ``p_move`` from ``self.predict_quantiles(X, PROBABILITY_GRID)``."""

    def predict_quantiles(self, X: pd.DataFrame, quantiles: Any = ...) -> pd.DataFrame:
        raise NotImplementedError

    def p_up(self, X: pd.DataFrame) -> pd.Series:
        """Probability that the ``h``-step log return is above 0, per row."""
        q = self.predict_quantiles(X, PROBABILITY_GRID)
        return pd.Series(1.0 - cdf_from_quantiles(q, 0.0), index=q.index, name="p_up")

    def p_move(self, X: pd.DataFrame, threshold: float) -> pd.Series:
        """Probability that ``|h-step log return|`` exceeds ``threshold`` (a log return > 0)."""
        t = check_threshold(threshold)
        q = self.predict_quantiles(X, PROBABILITY_GRID)
        p = cdf_from_quantiles(q, -t) + 1.0 - cdf_from_quantiles(q, t)
        return pd.Series(np.clip(p, 0.0, 1.0), index=q.index, name="p_move")
