"""Forecast metrics as pure functions of arrays (no state, no pandas needed).

Point metrics take ``y_true`` and ``y_pred`` (prices unless said otherwise); scaled metrics also
take the naive forecast on the same origins (``y_naive``: the close at each origin). Percentages
are returned in percent (``mape(...) == 4.2`` means 4.2 %); ratios and accuracies as fractions.

* :func:`mae`, :func:`rmse`, :func:`mape`, :func:`smape`, :func:`r2`
* :func:`mase` - MAE scaled by the naive forecast's MAE *on the same origins* (naive = 1 exactly)
* :func:`theils_u2` - relative RMSE against the no-change forecast (naive = 1 exactly)
* :func:`directional_accuracy` / :func:`directional_test` - ties excluded, binomial p-value vs 50 %
* :func:`interval_coverage`, :func:`winkler_score`
* :func:`strategy_returns`, :func:`trading_metrics` - long/flat and long/short on the forecast sign,
  with a fee in basis points, annualised on 365 days by default.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cryptoforecast.exceptions import DataError

__all__ = [
    "DirectionalResult",
    "directional_accuracy",
    "directional_test",
    "interval_coverage",
    "mae",
    "mape",
    "mase",
    "max_drawdown",
    "r2",
    "rmse",
    "smape",
    "strategy_positions",
    "strategy_returns",
    "theils_u2",
    "trading_metrics",
    "winkler_score",
]

Strategy = Literal["long_flat", "long_short", "buy_and_hold"]


def _arrays(*arrays: ArrayLike, names: tuple[str, ...]) -> list[NDArray[np.float64]]:
    """Float64 1-d arrays of one length, or a :class:`DataError` naming the offending input."""
    out = [np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays]
    n = len(out[0])
    for arr, name in zip(out, names, strict=True):
        if len(arr) != n:
            raise DataError(
                f"{name} has {len(arr)} values but {names[0]} has {n}; pass arrays of one length "
                "(one value per forecast origin)"
            )
    if n == 0:
        raise DataError(f"{names[0]} is empty; metrics need at least one forecast")
    return out


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error."""
    t, p = _arrays(y_true, y_pred, names=("y_true", "y_pred"))
    return float(np.mean(np.abs(t - p)))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error."""
    t, p = _arrays(y_true, y_pred, names=("y_true", "y_pred"))
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error, in percent (``y_true`` must be non-zero, e.g. prices)."""
    t, p = _arrays(y_true, y_pred, names=("y_true", "y_pred"))
    if np.any(t == 0):
        raise DataError("mape is undefined where y_true == 0; use it on prices, or use mae/smape")
    return float(np.mean(np.abs((t - p) / t)) * 100.0)


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE in percent, ``mean(2|y - yhat| / (|y| + |yhat|))``; 0/0 terms count as 0."""
    t, p = _arrays(y_true, y_pred, names=("y_true", "y_pred"))
    denom = np.abs(t) + np.abs(p)
    num = 2.0 * np.abs(t - p)
    ratio = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
    return float(np.mean(ratio) * 100.0)


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_naive: ArrayLike) -> float:
    """MAE of ``y_pred`` divided by the MAE of ``y_naive`` on the same origins.

    Below 1 beats the naive forecast. NaN when the naive forecast is perfect (MAE 0).
    """
    t, p, n = _arrays(y_true, y_pred, y_naive, names=("y_true", "y_pred", "y_naive"))
    scale = float(np.mean(np.abs(t - n)))
    if scale == 0.0:
        return math.nan
    return float(np.mean(np.abs(t - p)) / scale)


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (as ``sklearn.metrics.r2_score``).

    On price levels it is near 1 for any forecast close to yesterday's price (naive included);
    on log returns it measures skill. NaN when ``y_true`` is constant.
    """
    t, p = _arrays(y_true, y_pred, names=("y_true", "y_pred"))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0.0:
        return math.nan
    return float(1.0 - np.sum((t - p) ** 2) / ss_tot)


def theils_u2(y_true: ArrayLike, y_pred: ArrayLike, y_origin: ArrayLike) -> float:
    """Theil's U2: ``sqrt(sum(((yhat - y) / y0)^2) / sum(((y - y0) / y0)^2))``.

    ``y_origin`` is the value at each forecast origin, so the no-change forecast scores exactly 1
    and below 1 beats it. NaN when the series never moves.
    """
    t, p, o = _arrays(y_true, y_pred, y_origin, names=("y_true", "y_pred", "y_origin"))
    if np.any(o == 0):
        raise DataError("theils_u2 needs non-zero origin values (prices), got a 0")
    den = float(np.sum(((t - o) / o) ** 2))
    if den == 0.0:
        return math.nan
    return float(np.sqrt(np.sum(((p - t) / o) ** 2) / den))


@dataclass(frozen=True)
class DirectionalResult:
    """Directional accuracy with its binomial test against a coin flip."""

    accuracy: float
    n_correct: int
    n_decided: int
    n_ties: int
    pvalue: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def directional_test(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_origin: ArrayLike,
    alternative: Literal["greater", "two-sided", "less"] = "greater",
) -> DirectionalResult:
    """Share of origins where the forecast moved the same way as the truth, ties excluded.

    The direction of each is its sign relative to ``y_origin`` (for log returns pass zeros).
    Origins where either direction is 0 (a tie, e.g. every naive forecast) are excluded. The
    p-value is ``scipy.stats.binomtest(n_correct, n_decided, 0.5, alternative)``; the default
    ``"greater"`` asks whether the forecast beats a coin flip. NaN when nothing is decided.
    """
    from scipy.stats import binomtest

    t, p, o = _arrays(y_true, y_pred, y_origin, names=("y_true", "y_pred", "y_origin"))
    s_true, s_pred = np.sign(t - o), np.sign(p - o)
    decided = (s_true != 0) & (s_pred != 0)
    n_decided = int(decided.sum())
    n_ties = int(len(t) - n_decided)
    if n_decided == 0:
        return DirectionalResult(math.nan, 0, 0, n_ties, math.nan)
    n_correct = int(np.sum(s_true[decided] == s_pred[decided]))
    pvalue = float(binomtest(n_correct, n_decided, 0.5, alternative=alternative).pvalue)
    return DirectionalResult(n_correct / n_decided, n_correct, n_decided, n_ties, pvalue)


def directional_accuracy(y_true: ArrayLike, y_pred: ArrayLike, y_origin: ArrayLike) -> float:
    """Fraction of correctly called directions, ties excluded (see :func:`directional_test`)."""
    return directional_test(y_true, y_pred, y_origin).accuracy


def interval_coverage(y_true: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of ``y_true`` inside ``[lower, upper]``; rows with a missing bound are skipped."""
    t, lo, hi = _arrays(y_true, lower, upper, names=("y_true", "lower", "upper"))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return math.nan
    return float(np.mean((t[ok] >= lo[ok]) & (t[ok] <= hi[ok])))


def winkler_score(y_true: ArrayLike, lower: ArrayLike, upper: ArrayLike, coverage: float) -> float:
    """Mean Winkler (interval) score of a central ``coverage`` interval; lower is better.

    ``width + (2 / alpha) * (lower - y)`` below the interval, ``width + (2 / alpha) * (y - upper)``
    above it, with ``alpha = 1 - coverage`` (Winkler 1972; Gneiting & Raftery 2007).
    """
    if not 0.0 < coverage < 1.0:
        raise DataError(f"coverage must be strictly between 0 and 1, got {coverage!r}")
    t, lo, hi = _arrays(y_true, lower, upper, names=("y_true", "lower", "upper"))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return math.nan
    t, lo, hi = t[ok], lo[ok], hi[ok]
    alpha = 1.0 - coverage
    score = (
        (hi - lo)
        + (2.0 / alpha) * np.maximum(lo - t, 0.0)
        + (2.0 / alpha) * np.maximum(t - hi, 0.0)
    )
    return float(np.mean(score))


# --------------------------------------------------------------------------------------------
# trading
# --------------------------------------------------------------------------------------------
def strategy_positions(forecast: ArrayLike, strategy: Strategy) -> NDArray[np.float64]:
    """Positions from the forecast sign: long/flat ``{0, 1}``, long/short ``{-1, 0, 1}``.

    A forecast of exactly 0 means flat in both rules; ``buy_and_hold`` is always 1.
    """
    (f,) = _arrays(forecast, names=("forecast",))
    if strategy == "long_flat":
        return (f > 0).astype(np.float64)
    if strategy == "long_short":
        return np.sign(f).astype(np.float64)
    if strategy == "buy_and_hold":
        return np.ones_like(f)
    raise DataError(f"unknown strategy {strategy!r}; use long_flat, long_short or buy_and_hold")


def strategy_returns(
    positions: ArrayLike, asset_returns: ArrayLike, fee_bps: float = 10.0
) -> NDArray[np.float64]:
    """Net simple return per period: ``position * asset_return - |position change| * fee``.

    ``asset_returns`` are simple returns over each holding period. The portfolio starts flat, so
    entering the first position pays a fee too; ``fee_bps`` is charged on each unit traded.
    """
    p, r = _arrays(positions, asset_returns, names=("positions", "asset_returns"))
    if fee_bps < 0:
        raise DataError(f"fee_bps must be >= 0, got {fee_bps!r}")
    traded = np.abs(np.diff(p, prepend=0.0))
    return p * r - traded * (fee_bps / 1e4)


def max_drawdown(period_returns: ArrayLike) -> float:
    """Largest peak-to-trough fall of the compounded equity curve (starting at 1), as ``<= 0``."""
    (r,) = _arrays(period_returns, names=("period_returns",))
    equity = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    peak = np.maximum.accumulate(equity)
    return float(np.min(equity / peak - 1.0))


def trading_metrics(
    forecast: ArrayLike,
    asset_returns: ArrayLike,
    strategy: Strategy = "long_flat",
    fee_bps: float = 10.0,
    periods_per_year: float = 365.0,
) -> dict[str, float]:
    """Backtest a sign rule on the forecast: one position per period, held for that period.

    Args:
        forecast: the forecast per period (its sign sets the position), e.g. predicted log returns.
        asset_returns: the asset's simple return over each holding period (next bar).
        strategy: ``long_flat``, ``long_short`` or ``buy_and_hold`` (ignores the forecast).
        fee_bps: cost per unit of position traded, in basis points.
        periods_per_year: 365 for daily bars (crypto trades every day), 2190 for 4h bars.

    Returns:
        ``total_return`` (compounded), ``annual_return``, ``sharpe`` and ``sortino`` (annualised,
        risk-free 0, Sortino's downside deviation against 0), ``max_drawdown`` (<= 0),
        ``hit_rate`` (share of periods in the market with a positive net return), ``turnover``
        (mean units traded per period), ``exposure`` (share of periods in the market),
        ``n_periods``.
    """
    f, r = _arrays(forecast, asset_returns, names=("forecast", "asset_returns"))
    pos = strategy_positions(f, strategy)
    net = strategy_returns(pos, r, fee_bps)
    n = len(net)
    total = float(np.prod(1.0 + net) - 1.0)
    years = n / periods_per_year
    annual = float((1.0 + total) ** (1.0 / years) - 1.0) if total > -1.0 else -1.0
    sd = float(np.std(net, ddof=1)) if n > 1 else math.nan
    sharpe = float(np.mean(net) / sd * math.sqrt(periods_per_year)) if sd and sd > 0 else math.nan
    downside = float(np.sqrt(np.mean(np.minimum(net, 0.0) ** 2)))
    sortino = (
        float(np.mean(net) / downside * math.sqrt(periods_per_year)) if downside > 0 else math.nan
    )
    in_market = pos != 0
    hit = float(np.mean(net[in_market] > 0)) if in_market.any() else math.nan
    return {
        "total_return": total,
        "annual_return": annual,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": max_drawdown(net),
        "hit_rate": hit,
        "turnover": float(np.mean(np.abs(np.diff(pos, prepend=0.0)))),
        "exposure": float(np.mean(in_market)),
        "n_periods": float(n),
    }
