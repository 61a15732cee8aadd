"""Adaptive conformal intervals (ACI) walked origin by origin through a backtest.

At each origin ``t`` (a row position of the feature frame) the band is
``point + offsets(alpha_t)`` where the offsets are the quantiles of the model's own out-of-sample
residuals (its ``calibrator_``) at the adapted miscoverage ``alpha_t`` (Gibbs & Candes, 2021)::

    alpha_{t+1} = alpha_t + gamma * (alpha - err_t)

``err_t`` is 1 when the realised target of an earlier forecast fell outside the band *as issued*
at its origin. The target of origin ``k`` is ``log(close[k+h] / close[k])``, known from row
``k + h`` on, so before the band at ``t`` is issued the state takes in exactly the forecasts
with ``k + h <= t`` (their ``target_time <= t``), in origin order, and never one realised later.

At a refit the new model's residuals replace the old ones (each model is calibrated on its own
out-of-sample errors) while the per-coverage ``alpha_t`` carries over: it measures how the
interval procedure has been covering lately, which a refit does not reset. Forecasts issued by the
previous model that are realised after the refit still update ``alpha_t`` with their own bands.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from cryptoforecast.exceptions import NotFittedError
from cryptoforecast.models.intervals import ConformalCalibrator

__all__ = ["AdaptiveIntervals"]


class AdaptiveIntervals:
    """Per-coverage ACI state for one backtest, fed origins in increasing order.

    Args:
        coverages: central interval levels (``0.8``, ``0.95``).
        gamma: ACI step size (``> 0``; larger adapts faster and wobbles more).
        target: the ``h``-step log-return target per feature row (``make_target``), NaN where
            unknown; row ``k`` is read only once the walk reaches origin ``k + horizon``.
        horizon: forecast horizon ``h`` in rows.
    """

    def __init__(
        self, coverages: Sequence[float], gamma: float, target: np.ndarray, horizon: int
    ) -> None:
        self.coverages = tuple(float(c) for c in coverages)
        self.gamma = float(gamma)
        self.horizon = int(horizon)
        self._target = np.asarray(target, dtype="float64")
        self.alpha: dict[float, float] = {c: 1.0 - c for c in self.coverages}
        self.n_updates = 0
        self._calibrator: ConformalCalibrator | None = None
        self._pending: deque[tuple[int, np.ndarray, np.ndarray]] = deque()
        self._last = -1

    def start_model(self, model: Any) -> str | None:
        """Calibrate on ``model``'s own residuals from now on; alpha carries over.

        Returns ``None``, or why the model cannot have intervals (its origins then get NaN).
        """
        cal = getattr(model, "calibrator_", None)
        if not isinstance(cal, ConformalCalibrator):
            self._calibrator = None
            return f"{type(model).__name__} has no conformal calibrator_ to adapt"
        self._calibrator = ConformalCalibrator(
            residuals=cal.residuals.copy(), method="aci", gamma=self.gamma
        )
        if self._calibrator.n < 2:
            n = self._calibrator.n
            self._calibrator = None
            return f"it has {n} out-of-sample residual(s), fewer than the 2 conformal needs"
        return None

    def _realise(self, t: int) -> None:
        """Update alpha with every pending forecast whose target is known at row ``t``."""
        h = self.horizon
        while self._pending and self._pending[0][0] + h <= t:
            k, lower, upper = self._pending.popleft()
            y = self._target[k]
            if not np.isfinite(y):  # cannot happen for k + h <= t inside the data; be safe
                continue
            for i, c in enumerate(self.coverages):
                if not (np.isfinite(lower[i]) and np.isfinite(upper[i])):
                    continue  # no band was issued: nothing to learn from
                err = float(not lower[i] <= y <= upper[i])
                self.alpha[c] += self.gamma * ((1.0 - c) - err)
            self.n_updates += 1

    def bands(self, positions: np.ndarray, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Issue the bands (log-return units) at ``positions`` around ``point``.

        Returns ``(lower, upper)``, each of shape ``(len(positions), len(coverages))``; NaN when
        the model in force has no usable calibrator.
        """
        m = len(self.coverages)
        lower = np.full((len(positions), m), np.nan)
        upper = np.full((len(positions), m), np.nan)
        for row, (t, p) in enumerate(zip(positions, point, strict=True)):
            t = int(t)
            if t <= self._last:
                raise ValueError(f"origins must increase: got row {t} after row {self._last}")
            self._last = t
            self._realise(t)
            cal = self._calibrator
            if cal is not None:
                for i, c in enumerate(self.coverages):
                    cal.alpha_adjust[round(c, 6)] = self.alpha[c]
                    try:
                        lo, hi = cal.offsets(c)
                    except NotFittedError:  # pragma: no cover - start_model checked n >= 2
                        continue
                    lower[row, i], upper[row, i] = p + lo, p + hi
            self._pending.append((t, lower[row].copy(), upper[row].copy()))
        return lower, upper
