"""Causal, finite-window indicator primitives on float64 numpy arrays.

Every function returns an array as long as its input, NaN where the window is not yet full.
Each output value depends only on a fixed number of the most recent inputs (its *lookback*), so
it is the same whatever history came before and whatever came after: that is what makes the
features safe to train on and identical at serving time.

Two deliberate departures from the textbook recursions:

* **Exponential averages are windowed.** A plain EMA (and Wilder's smoothing in RSI, ATR and
  ADX) depends on every candle since the start of the history, so a model served from a shorter
  history would see different values than it was trained on. :func:`windowed_ema` keeps the EMA
  weights ``alpha * (1 - alpha)**j`` for the last ``window`` candles only (``window = 3 * span``,
  at most :data:`MAX_WINDOW`) and renormalises them to sum to one. It runs TA-Lib's EMA once
  and subtracts the decayed value from ``window`` candles earlier, so it costs O(n).
* **Rolling moments are computed window by window** (two-pass on ``sliding_window_view``), not by
  running sums, so a value does not pick up round-off from candles outside its window, and no
  variance is silently set to zero (TA-Lib's ``STDDEV``, ``BBANDS`` and ``MFI`` zero out small
  variances and money flows, which breaks on low-priced coins).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "EMA_WINDOW_FACTOR",
    "MAX_WINDOW",
    "adx",
    "atr",
    "bollinger",
    "cci",
    "garman_klass",
    "ema_window",
    "log_ratio",
    "log_return",
    "macd",
    "mfi",
    "obv_zscore",
    "parkinson",
    "rolling_corr",
    "rolling_cov",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rsi",
    "safe_div",
    "shift",
    "sma",
    "stochastic",
    "true_range",
    "wilder",
    "wilder_window",
    "williams_r",
    "windowed_ema",
    "zscore_rel",
]

EMA_WINDOW_FACTOR = 3
"""An EMA of span ``s`` keeps the last ``3 * s`` candles (the weight dropped is about e**-6)."""

MAX_WINDOW = 400
"""No window is longer than this many candles; it bounds the warm-up."""

_NAN = np.nan


def _talib():  # type: ignore[no-untyped-def]
    import talib

    return talib


def shift(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` moved ``k >= 0`` steps later (the value at ``t`` is ``x[t - k]``)."""
    out = np.full(len(x), _NAN)
    if k == 0:
        out[:] = x
    elif k < len(x):
        out[k:] = x[:-k]
    return out


def safe_div(num: np.ndarray, den: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """``num / den``, with ``fill`` where ``den == 0`` (NaN stays NaN)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, _NAN)
    zero = den == 0
    np.divide(num, den, out=out, where=~zero)
    out[zero & ~np.isnan(num)] = fill
    return out


def log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``ln(a / b)`` for positive arrays (NaN propagates)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a / b)


def log_return(x: np.ndarray, k: int) -> np.ndarray:
    """``ln(x[t] / x[t - k])``; the first ``k`` values are NaN."""
    return log_ratio(x, shift(x, k))


def _windows(x: np.ndarray, w: int) -> np.ndarray | None:
    return sliding_window_view(x, w) if len(x) >= w else None


def _pad(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, _NAN)
    if len(values):
        out[n - len(values) :] = values
    return out


def rolling_sum(x: np.ndarray, w: int) -> np.ndarray:
    """Sum of the last ``w`` values, summed window by window (no running total)."""
    v = _windows(x, w)
    return _pad(v.sum(axis=1) if v is not None else np.empty(0), len(x))


def rolling_mean(x: np.ndarray, w: int) -> np.ndarray:
    """Mean of the last ``w`` values."""
    return rolling_sum(x, w) / w


def rolling_std(x: np.ndarray, w: int, ddof: int = 1) -> np.ndarray:
    """Standard deviation of the last ``w`` values (two-pass within each window)."""
    v = _windows(x, w)
    if v is None:
        return np.full(len(x), _NAN)
    d = v - v.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", d, d) / (w - ddof)
    return _pad(np.sqrt(var), len(x))


def rolling_cov(x: np.ndarray, y: np.ndarray, w: int, ddof: int = 1) -> np.ndarray:
    """Covariance of ``x`` and ``y`` over the last ``w`` values (two-pass)."""
    vx, vy = _windows(x, w), _windows(y, w)
    if vx is None or vy is None:
        return np.full(len(x), _NAN)
    dx = vx - vx.mean(axis=1, keepdims=True)
    dy = vy - vy.mean(axis=1, keepdims=True)
    return _pad(np.einsum("ij,ij->i", dx, dy) / (w - ddof), len(x))


def rolling_corr(x: np.ndarray, y: np.ndarray, w: int) -> np.ndarray:
    """Pearson correlation over the last ``w`` values; 0 where either side is constant."""
    vx, vy = _windows(x, w), _windows(y, w)
    if vx is None or vy is None:
        return np.full(len(x), _NAN)
    dx = vx - vx.mean(axis=1, keepdims=True)
    dy = vy - vy.mean(axis=1, keepdims=True)
    sxy = np.einsum("ij,ij->i", dx, dy)
    den = np.sqrt(np.einsum("ij,ij->i", dx, dx) * np.einsum("ij,ij->i", dy, dy))
    return _pad(np.clip(safe_div(sxy, den, 0.0), -1.0, 1.0), len(x))


def rolling_max(x: np.ndarray, w: int) -> np.ndarray:
    """Highest of the last ``w`` values (TA-Lib ``MAX``; comparisons only, exact)."""
    return _talib().MAX(x, timeperiod=w)


def rolling_min(x: np.ndarray, w: int) -> np.ndarray:
    """Lowest of the last ``w`` values (TA-Lib ``MIN``)."""
    return _talib().MIN(x, timeperiod=w)


def sma(x: np.ndarray, w: int) -> np.ndarray:
    """Simple moving average (TA-Lib ``SMA``)."""
    return _talib().SMA(x, timeperiod=w)


def ema_window(span: int) -> int:
    """How many candles :func:`windowed_ema` keeps for an EMA of ``span``."""
    return min(EMA_WINDOW_FACTOR * span, MAX_WINDOW)


def wilder_window(n: int) -> int:
    """Window of Wilder's smoothing over ``n`` (an EMA of span ``2n - 1``)."""
    return ema_window(2 * n - 1)


def windowed_ema(x: np.ndarray, span: int, window: int | None = None) -> np.ndarray:
    """EMA of span ``span`` (``alpha = 2 / (span + 1)``) over the last ``window`` values only.

    The weights ``alpha * (1 - alpha)**j`` for ``j < window`` are renormalised to sum to one, so
    the value at ``t`` depends on ``x[t - window + 1 : t + 1]`` and nothing else. Leading NaNs are
    skipped; the first ``window - 1`` values after them are NaN.
    """
    window = ema_window(span) if window is None else window
    n = len(x)
    out = np.full(n, _NAN)
    finite = np.flatnonzero(~np.isnan(x))
    if not finite.size or n - finite[0] < window:
        return out
    first = int(finite[0])
    y = np.ascontiguousarray(x[first:], dtype=np.float64)
    decay = 1.0 - 2.0 / (span + 1.0)
    # TA-Lib's EMA seeded with zeros gives e[t] = alpha * sum_{j<=t} decay**j * y[t-j] in O(n).
    e = _talib().EMA(np.concatenate([np.zeros(span), y]), timeperiod=span)[span:]
    tail = decay**window
    res = e.copy()
    res[window:] -= tail * e[:-window]
    # A window of zeros leaves only round-off of the older values (a few ulps per step): snap it
    # to exactly 0, so a flat stretch gives RSI 50, not the ratio of two round-off residues.
    scale = np.abs(e)
    scale[window:] = np.maximum(scale[window:], tail * np.abs(e[:-window]))
    res[np.abs(res) <= 1e-11 * scale] = 0.0
    res /= 1.0 - tail
    res[: window - 1] = _NAN
    out[first:] = res
    return out


def wilder(x: np.ndarray, n: int) -> np.ndarray:
    """Wilder's smoothing over ``n`` (``alpha = 1/n``), windowed like :func:`windowed_ema`."""
    return windowed_ema(x, 2 * n - 1, wilder_window(n))


def rsi(close: np.ndarray, n: int) -> np.ndarray:
    """Relative strength index (0..100) with windowed Wilder smoothing; 50 when flat."""
    diff = close - shift(close, 1)
    gain = np.where(diff > 0, diff, 0.0)
    loss = np.where(diff < 0, -diff, 0.0)
    gain[0] = loss[0] = _NAN
    up, down = wilder(gain, n), wilder(loss, n)
    return 100.0 * safe_div(up, up + down, 0.5)


def macd(
    close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal and histogram, each divided by the close (scale-free)."""
    line = windowed_ema(close, fast) - windowed_ema(close, slow)
    sig = windowed_ema(line, signal)
    return line / close, sig / close, (line - sig) / close


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """``max(high, prev close) - min(low, prev close)``; NaN for the first candle."""
    prev = shift(close, 1)
    return np.maximum(high, prev) - np.minimum(low, prev)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int) -> np.ndarray:
    """Average true range (a price level: divide it by the close before using it as a feature)."""
    return wilder(true_range(high, low, close), n)


def adx(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int = 14
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ADX, +DI and -DI (0..100), with windowed Wilder smoothing."""
    up = high - shift(high, 1)
    down = shift(low, 1) - low
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    plus_dm[0] = minus_dm[0] = _NAN
    tr = wilder(true_range(high, low, close), n)
    plus_di = 100.0 * safe_div(wilder(plus_dm, n), tr, 0.0)
    minus_di = 100.0 * safe_div(wilder(minus_dm, n), tr, 0.0)
    dx = 100.0 * safe_div(np.abs(plus_di - minus_di), plus_di + minus_di, 0.0)
    return wilder(dx, n), plus_di, minus_di


def bollinger(
    close: np.ndarray, w: int = 20, k: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands as ``upper/close - 1``, ``lower/close - 1``, width and %b.

    Each window is divided by its last close before taking the mean and (population) standard
    deviation, so the result is scale-free and exact for coins priced at fractions of a cent.
    """
    n = len(close)
    v = _windows(close, w)
    if v is None:
        nan = np.full(n, _NAN)
        return nan, nan.copy(), nan.copy(), nan.copy()
    rel = v / v[:, -1:]
    mid = rel.mean(axis=1)
    d = rel - mid[:, None]
    sd = np.sqrt(np.einsum("ij,ij->i", d, d) / w)
    upper, lower = mid + k * sd, mid - k * sd
    width = safe_div(upper - lower, mid, 0.0)
    pctb = safe_div(1.0 - lower, upper - lower, 0.5)
    return _pad(upper - 1.0, n), _pad(lower - 1.0, n), _pad(width, n), _pad(pctb, n)


def zscore_rel(close: np.ndarray, w: int) -> np.ndarray:
    """Z-score of the close against its last ``w`` closes (sample std; 0 when flat)."""
    v = _windows(close, w)
    if v is None:
        return np.full(len(close), _NAN)
    rel = v / v[:, -1:]
    mid = rel.mean(axis=1)
    d = rel - mid[:, None]
    sd = np.sqrt(np.einsum("ij,ij->i", d, d) / (w - 1))
    return _pad(safe_div(1.0 - mid, sd, 0.0), len(close))


def stochastic(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, k: int = 14, smooth: int = 3, d: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Slow stochastic %K and %D (TA-Lib ``STOCH`` with simple moving averages)."""
    slowk, slowd = _talib().STOCH(
        high,
        low,
        close,
        fastk_period=k,
        slowk_period=smooth,
        slowk_matype=0,
        slowd_period=d,
        slowd_matype=0,
    )
    return slowk, slowd


def cci(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int = 20) -> np.ndarray:
    """Commodity channel index (TA-Lib ``CCI``)."""
    return _talib().CCI(high, low, close, timeperiod=n)


def williams_r(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int = 14) -> np.ndarray:
    """Williams %R, -100..0 (TA-Lib ``WILLR``)."""
    return _talib().WILLR(high, low, close, timeperiod=n)


def mfi(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, n: int = 14
) -> np.ndarray:
    """Money flow index (0..100), window sums per window; 50 when no money flowed."""
    tp = (high + low + close) / 3.0
    flow = tp * volume
    dtp = tp - shift(tp, 1)
    pos = np.where(dtp > 0, flow, 0.0)
    neg = np.where(dtp < 0, flow, 0.0)
    pos[0] = neg[0] = _NAN
    sp, sn = rolling_sum(pos, n), rolling_sum(neg, n)
    return 100.0 * safe_div(sp, sp + sn, 0.5)


def obv_zscore(close: np.ndarray, volume: np.ndarray, w: int) -> np.ndarray:
    """Z-score of on-balance volume within its last ``w`` values.

    OBV is a running total from the start of the history, so its level depends on where the data
    begins; its z-score within a window does not (a constant offset cancels). The running total
    starts at 0 on the first candle, so the first value needs ``w - 1`` signed volumes; the
    two-pass window moments keep the round-off of the offset far below the parity tolerance.
    """
    signed = np.sign(close - shift(close, 1)) * volume
    signed[0] = 0.0
    obv = np.cumsum(signed)
    return safe_div(obv - rolling_mean(obv, w), rolling_std(obv, w), 0.0)


def _ln2() -> float:
    return math.log(2.0)


def parkinson(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    """Parkinson range volatility per candle over the last ``w`` candles."""
    hl = log_ratio(high, low)
    return np.sqrt(rolling_mean(hl * hl, w) / (4.0 * _ln2()))


def garman_klass(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int
) -> np.ndarray:
    """Garman-Klass volatility per candle over the last ``w`` candles."""
    hl = log_ratio(high, low)
    co = log_ratio(close, open_)
    term = 0.5 * hl * hl - (2.0 * _ln2() - 1.0) * co * co
    return np.sqrt(np.maximum(rolling_mean(term, w), 0.0))
