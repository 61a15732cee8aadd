"""Normalised conformal calibration: quantiles of out-of-sample scores ``(y - mu) / sigma``.

A :class:`ScoreCalibrator` holds standardised residuals that were out of sample when made; its
shape is their empirical distribution. With ``gamma`` set it also runs adaptive conformal
inference per quantile level: after each realised score, level ``tau``'s working level moves by
``gamma * (tau - 1{z <= q_tau})``, so a run of misses widens that side of the band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution.shapes import StandardShape
from cryptoforecast.models.stored_values import (
    MAX_ABS_SCORE,
    refuse,
    stored_number,
    stored_numbers,
    stored_object,
    stored_whole,
)

__all__ = ["MIN_SCORES", "ScoreCalibrator"]

#: fewest out-of-sample scores an empirical shape is built from
MIN_SCORES = 30


@dataclass
class ScoreCalibrator:
    """Out-of-sample standardised residuals, optionally windowed, with per-level ACI state."""

    scores: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    gamma: float | None = None
    window: int | None = 1000
    level_adjust: dict[float, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = np.asarray(self.scores, dtype="float64").reshape(-1)
        self.scores = s[np.isfinite(s)]
        if self.window is not None:
            self.scores = self.scores[-int(self.window) :]
        if self.gamma is not None and not 0.0 < float(self.gamma) < 1.0:
            raise DataError(f"aci gamma must be in (0, 1) or None, got {self.gamma!r}; e.g. 0.005")

    @property
    def ready(self) -> bool:
        return self.scores.size >= MIN_SCORES

    def shape(self) -> StandardShape:
        if not self.ready:
            raise DataError(
                f"only {self.scores.size} out-of-sample scores to calibrate on (need "
                f"{MIN_SCORES}); fit on more history or use calibration='none'"
            )
        return StandardShape("empirical", scores=self.scores)

    def add(self, z: ArrayLike, levels: ArrayLike = ()) -> None:
        """Record realised scores in time order; with ACI, move each level's working level."""
        for value in np.asarray(z, dtype="float64").reshape(-1):
            if not np.isfinite(value):
                continue
            if self.gamma is not None and self.ready:
                shape = self.shape()
                for tau in np.asarray(levels, dtype="float64"):
                    key = round(float(tau), 6)
                    used = float(np.clip(self.level_adjust.get(key, key), 1e-4, 1 - 1e-4))
                    hit = float(value <= shape.ppf(np.array([used]))[0])
                    self.level_adjust[key] = used + float(self.gamma) * (key - hit)
            self.scores = np.append(self.scores, value)
            if self.window is not None:
                self.scores = self.scores[-int(self.window) :]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": [float(s) for s in self.scores],
            "gamma": self.gamma,
            "window": self.window,
            "level_adjust": {str(k): v for k, v in self.level_adjust.items()},
        }

    @classmethod
    def from_dict(
        cls, data: Any, where: str = "score calibrator", field: str = "calibrator"
    ) -> ScoreCalibrator:
        """The calibrator :meth:`to_dict` wrote, every value checked (finite scores, ``gamma`` in
        (0, 1) or none, ``window`` >= 1 or none, finite working levels keyed by levels in
        (0, 1)): an :class:`ArtifactError` naming ``where``, the field and the value otherwise."""
        data = stored_object(data, where, field)
        scores = stored_numbers(
            data.get("scores", []), where, f"{field}.scores", low=-MAX_ABS_SCORE, high=MAX_ABS_SCORE
        )
        gamma, window = data.get("gamma"), data.get("window")
        if gamma is not None:
            gamma = stored_number(
                gamma, where, f"{field}.gamma", low=0.0, high=1.0, low_open=True, high_open=True
            )
        if window is not None:
            window = stored_whole(window, where, f"{field}.window", low=1)
        levels: dict[float, float] = {}
        for key, value in stored_object(
            data.get("level_adjust", {}), where, f"{field}.level_adjust"
        ).items():
            try:
                level = float(key)
            except ValueError:
                level = math.nan
            if not 0.0 < level < 1.0:
                raise refuse(where, f"{field}.level_adjust", "keyed by levels in (0, 1)", key)
            levels[level] = stored_number(value, where, f"{field}.level_adjust[{key!r}]")
        return cls(scores=scores, gamma=gamma, window=window, level_adjust=levels)
