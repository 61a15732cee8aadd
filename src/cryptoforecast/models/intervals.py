"""Conformal prediction intervals from out-of-sample residuals, with adaptive (ACI) updating.

Split conformal: given out-of-sample residuals ``r = y - y_hat`` (validation tail or walk-forward),
the interval at coverage ``c`` is ``y_hat + [q_lo, q_hi]`` where ``q_lo``/``q_hi`` are the
``(1-c)/2`` and ``(1+c)/2`` empirical quantiles of ``r`` with the finite-sample correction.
Adaptive conformal inference (Gibbs & Candes, 2021) adjusts the miscoverage level ``alpha_t``
after each realised error: ``alpha_{t+1} = alpha_t + gamma * (alpha - err_t)``, so coverage tracks
the nominal level when volatility shifts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cryptoforecast.exceptions import DataError, NotFittedError
from cryptoforecast.models.stored_values import (
    MAX_ABS_LOG_RETURN,
    stored_choice,
    stored_fraction_map,
    stored_number,
    stored_numbers,
    stored_object,
    stored_whole,
)

__all__ = ["ConformalCalibrator"]


def _check_coverage(coverage: float) -> float:
    if not isinstance(coverage, int | float) or not 0 < coverage < 1:
        raise DataError(
            f"coverage must be a number strictly between 0 and 1 (e.g. 0.8), got {coverage!r}"
        )
    return float(coverage)


def _corrected_quantile(values: np.ndarray, q: float) -> float:
    """Empirical quantile with the split-conformal ``ceil((n+1)q)/n`` correction."""
    n = len(values)
    level = (
        min(1.0, max(0.0, math.ceil((n + 1) * q) / n))
        if q >= 0.5
        else max(0.0, math.floor((n + 1) * q) / n)
    )
    return float(np.quantile(values, level, method="higher" if q >= 0.5 else "lower"))


@dataclass
class ConformalCalibrator:
    """Residual-quantile intervals; ``method="aci"`` also adapts with :meth:`update`.

    Attributes:
        residuals: out-of-sample residuals ``y - y_hat`` (log-return units).
        method: ``"split"`` (static) or ``"aci"`` (adaptive).
        gamma: ACI step size.
        alpha_adjust: per-coverage ACI state, ``{coverage: alpha_t}``.
        window: keep only the last ``window`` residuals (``None`` keeps all).
    """

    residuals: np.ndarray = field(default_factory=lambda: np.empty(0))
    method: Literal["split", "aci"] = "split"
    gamma: float = 0.01
    window: int | None = None
    alpha_adjust: dict[float, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        res = np.asarray(self.residuals, dtype="float64").ravel()
        self.residuals = res[np.isfinite(res)]
        if self.window is not None:
            self.residuals = self.residuals[-self.window :]
        if self.method not in ("split", "aci"):
            raise DataError(f"interval method must be 'split' or 'aci', got {self.method!r}")

    @classmethod
    def from_residuals(cls, residuals: Iterable[float], **kwargs: Any) -> ConformalCalibrator:
        return cls(residuals=np.asarray(list(residuals), dtype="float64"), **kwargs)

    @property
    def n(self) -> int:
        return int(len(self.residuals))

    def _alpha(self, coverage: float) -> float:
        alpha = 1.0 - coverage
        if self.method == "aci":
            alpha = self.alpha_adjust.get(round(coverage, 6), alpha)
        return float(min(max(alpha, 1e-6), 1.0 - 1e-6))

    def offsets(self, coverage: float = 0.8) -> tuple[float, float]:
        """``(q_lo, q_hi)``: add to a point forecast to get the interval."""
        coverage = _check_coverage(coverage)
        if self.n < 2:
            raise NotFittedError(
                "This calibrator has fewer than 2 out-of-sample residuals; fit the model with a "
                "validation tail (or walk-forward residuals) before asking for intervals."
            )
        alpha = self._alpha(coverage)
        lo = _corrected_quantile(self.residuals, alpha / 2)
        hi = _corrected_quantile(self.residuals, 1 - alpha / 2)
        return min(lo, 0.0), max(hi, 0.0)

    def quantile_offsets(self, levels: Iterable[float]) -> np.ndarray:
        """Residual quantile at each level (split-conformal rank rule), increasing in the level."""
        if self.n < 2:
            raise NotFittedError(
                "This calibrator has fewer than 2 out-of-sample residuals; fit the model with a "
                "validation tail (or walk-forward residuals) before asking for quantiles."
            )
        return np.maximum.accumulate([_corrected_quantile(self.residuals, q) for q in levels])

    def interval(self, point: np.ndarray, coverage: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.offsets(coverage)
        p = np.asarray(point, dtype="float64")
        return p + lo, p + hi

    def update(
        self, y_true: float, y_pred: float, coverages: Iterable[float] = (0.8, 0.95)
    ) -> None:
        """Add a realised residual; with ``method="aci"`` also move each coverage's alpha."""
        if self.method == "aci":
            for c in coverages:
                c = _check_coverage(c)
                lo, hi = self.offsets(c)
                err = float(not (y_pred + lo <= y_true <= y_pred + hi))
                key = round(c, 6)
                alpha = self.alpha_adjust.get(key, 1.0 - c)
                self.alpha_adjust[key] = float(alpha + self.gamma * ((1.0 - c) - err))
        self.residuals = np.append(self.residuals, float(y_true) - float(y_pred))
        if self.window is not None:
            self.residuals = self.residuals[-self.window :]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "gamma": self.gamma,
            "window": self.window,
            "residuals": [float(r) for r in self.residuals],
            "alpha_adjust": {str(k): v for k, v in self.alpha_adjust.items()},
            "quantiles": {str(c): list(self.offsets(c)) for c in (0.8, 0.95) if self.n >= 2},
        }

    @classmethod
    def from_dict(
        cls, data: Any, where: str = "conformal calibrator", field: str = "conformal"
    ) -> ConformalCalibrator:
        """The calibrator :meth:`to_dict` wrote, every value checked (residuals finite log returns,
        a known method, ``gamma`` in [0, 1], ``window`` >= 1, finite ACI levels): an
        :class:`ArtifactError` naming ``where``, the field and the value otherwise."""
        data = stored_object(data, where, field)
        residuals = stored_numbers(
            data.get("residuals", []),
            where,
            f"{field}.residuals",
            low=-MAX_ABS_LOG_RETURN,
            high=MAX_ABS_LOG_RETURN,
        )
        method = stored_choice(
            data.get("method", "split"), where, f"{field}.method", ("split", "aci")
        )
        gamma = stored_number(data.get("gamma", 0.01), where, f"{field}.gamma", low=0.0, high=1.0)
        window = data.get("window")
        if window is not None:
            window = stored_whole(window, where, f"{field}.window", low=1)
        adjust = stored_fraction_map(
            data.get("alpha_adjust", {}), where, f"{field}.alpha_adjust", "coverages"
        )
        return cls(
            residuals=residuals,
            method=method,  # type: ignore[arg-type]
            gamma=gamma,
            window=window,
            alpha_adjust=adjust,
        )
