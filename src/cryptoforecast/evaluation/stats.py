"""Statistical tests on forecast errors: the Diebold-Mariano test with the HLN correction.

``diebold_mariano(e_model, e_naive, horizon)`` asks whether two forecasts made on the same
origins have equal expected squared-error loss. With ``d_t = e_model_t**2 - e_naive_t**2``:

* ``gamma_k = (1/T) * sum_{t=k+1..T} (d_t - dbar)(d_{t-k} - dbar)`` (autocovariances),
* ``var(dbar) = (gamma_0 + 2 * sum_{k=1..h-1} w_k * gamma_k) / T``; ``h - 1`` lags because
  ``h``-step errors made on consecutive origins overlap. ``kernel="newey-west"`` (default) uses
  Bartlett weights ``w_k = 1 - k/h``, which keep the variance positive;
  ``kernel="rectangular"`` uses ``w_k = 1`` as Diebold & Mariano (1995) and R's ``dm.test``.
* ``DM = dbar / sqrt(var(dbar))``; Harvey, Leybourne & Newbold (1997) multiply it by
  ``sqrt((T + 1 - 2h + h(h-1)/T) / T)`` and compare with Student's t on ``T - 1`` degrees of
  freedom (two-sided).

A negative statistic means the model's loss is lower than naive's. For ``h = 1`` the corrected
statistic equals the one-sample t-statistic of ``d`` (a check the tests use).
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple, get_args

import numpy as np
from numpy.typing import ArrayLike

from cryptoforecast.exceptions import DataError

__all__ = ["DMResult", "Kernel", "diebold_mariano", "diebold_mariano_loss"]

#: weights of the autocovariances in the long-run variance: Bartlett (default) or equal
Kernel = Literal["newey-west", "rectangular"]


class DMResult(NamedTuple):
    """Outcome of :func:`diebold_mariano`; ``reason`` says why a value is NaN or degenerate."""

    statistic: float
    pvalue: float
    n: int
    horizon: int
    mean_loss_difference: float
    reason: str | None = None


def diebold_mariano(
    e_model: ArrayLike,
    e_naive: ArrayLike,
    horizon: int = 1,
    *,
    kernel: Kernel = "newey-west",
    hln: bool = True,
) -> DMResult:
    """Diebold-Mariano test of equal squared-error loss, with the HLN small-sample correction.

    Args:
        e_model: forecast errors of the model (truth - forecast), one per origin, in time order.
        e_naive: forecast errors of the benchmark on the same origins.
        horizon: forecast horizon ``h`` in steps; ``h - 1`` autocovariance lags are used.
        kernel: ``"newey-west"`` (Bartlett weights) or ``"rectangular"`` (equal weights).
        hln: apply the Harvey-Leybourne-Newbold correction and Student-t p-value (else normal).

    Returns:
        :class:`DMResult`. When both forecasts have identical losses the statistic is 0 and the
        p-value 1; when the variance estimate is not positive (or fewer than 2 origins) both are
        NaN and ``reason`` explains why.
    """
    e1, e2 = _paired(e_model, e_naive, "e_model", "e_naive", "forecast errors")
    return diebold_mariano_loss(e1**2, e2**2, horizon, kernel=kernel, hln=hln)


def _paired(
    a: ArrayLike, b: ArrayLike, name_a: str, name_b: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    z = np.asarray(b, dtype=np.float64).reshape(-1)
    if len(x) != len(z):
        raise DataError(
            f"{name_a} has {len(x)} values but {name_b} has {len(z)}; "
            "both must be on the same origins"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(z))):
        raise DataError(f"{what} contain NaN or infinite values; drop those origins first")
    return x, z


def diebold_mariano_loss(
    loss_model: ArrayLike,
    loss_base: ArrayLike,
    horizon: int = 1,
    *,
    kernel: Kernel = "newey-west",
    hln: bool = True,
) -> DMResult:
    """Diebold-Mariano test on any per-origin losses (e.g. CRPS), ``d = loss_model - loss_base``.

    :func:`diebold_mariano` is this test on squared errors; arguments and result as there.
    """
    from scipy import stats

    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise DataError(f"horizon must be a whole number >= 1, got {horizon!r}")
    if kernel not in get_args(Kernel):
        raise DataError(f"kernel must be 'newey-west' or 'rectangular', got {kernel!r}")
    h = int(horizon)
    l1, l2 = _paired(loss_model, loss_base, "loss_model", "loss_base", "losses")
    T = len(l1)
    d = l1 - l2
    dbar = float(d.mean()) if T else math.nan
    if T < 2:
        return DMResult(math.nan, math.nan, T, h, dbar, f"need at least 2 forecasts, got {T}")
    if np.all(d == 0.0):
        return DMResult(
            0.0, 1.0, T, h, 0.0, "the loss differential is identically zero (identical losses)"
        )
    dc = d - dbar
    var = float(np.dot(dc, dc)) / T
    for k in range(1, min(h, T)):
        weight = 1.0 - k / h if kernel == "newey-west" else 1.0
        var += 2.0 * weight * float(np.dot(dc[k:], dc[:-k])) / T
    var /= T
    if not var > 0.0:
        return DMResult(
            math.nan,
            math.nan,
            T,
            h,
            dbar,
            f"the long-run variance estimate is not positive ({var:.3g}); try kernel='newey-west' "
            "or more origins",
        )
    dm = dbar / math.sqrt(var)
    if not hln:
        return DMResult(dm, float(2.0 * stats.norm.sf(abs(dm))), T, h, dbar)
    factor = (T + 1 - 2 * h + h * (h - 1) / T) / T
    if factor <= 0:
        return DMResult(
            math.nan,
            math.nan,
            T,
            h,
            dbar,
            f"too few origins ({T}) for horizon {h} in the HLN correction",
        )
    stat = dm * math.sqrt(factor)
    return DMResult(stat, float(2.0 * stats.t.sf(abs(stat), df=T - 1)), T, h, dbar)
