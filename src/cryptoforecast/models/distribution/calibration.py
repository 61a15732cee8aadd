"""Normalised conformal calibration: quantiles of out-of-sample scores ``(y - mu) / sigma``.

A :class:`ScoreCalibrator` holds standardised residuals that were out of sample when made; its
shape is their empirical distribution. With ``gamma`` set it also runs adaptive conformal
inference per quantile level: after each realised score, level ``tau``'s working level moves by
``gamma * (tau - 1{z <= q_tau})``, so a run of misses widens that side of the band.

The calibration choices (:data:`CALIBRATIONS`), one home for the walk-forward and the stored
distribution alike (:func:`make_calibrator`, :func:`calibrated_shape`):

* ``"none"`` - the volatility model's own parametric shape;
* ``"conformal"`` - the empirical shape of the out-of-sample scores (the last 1,000);
* ``"conformal_window"`` - the same from only the most recent ``window`` scores (default 250);
* ``"aci"`` - ``"conformal"`` with per-level adaptive steps (``gamma``, default 0.005);
* ``"blend"`` - the equal-weight quantile average of the parametric and the conformal shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.models.distribution.shapes import StandardShape
from cryptoforecast.models.stored_values import (
    MAX_ABS_SCORE,
    stored_fraction_map,
    stored_number,
    stored_numbers,
    stored_object,
    stored_whole,
)

__all__ = [
    "ACI_GAMMA",
    "CALIBRATIONS",
    "BlendedShape",
    "Calibration",
    "CONFORMAL_WINDOW",
    "MIN_SCORES",
    "ScoreCalibrator",
    "blend_shapes",
    "calibrated_shape",
    "check_calibration",
    "make_calibrator",
]

#: fewest out-of-sample scores an empirical shape is built from
MIN_SCORES = 30
#: a calibration choice
Calibration = Literal["none", "conformal", "conformal_window", "aci", "blend"]
#: the calibration choices a distribution can be shaped by
CALIBRATIONS: tuple[str, ...] = get_args(Calibration)
#: scores kept by ``"conformal_window"`` (the most recent realised ones)
CONFORMAL_WINDOW = 250
#: per-level adaptive step of ``"aci"`` when none is given
ACI_GAMMA = 0.005
#: scores kept by ``"conformal"``, ``"aci"`` and ``"blend"``
_ALL_SCORES = 1000
#: levels on which a blended shape is tabulated
_BLEND_GRID = 1000


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
        levels = stored_fraction_map(
            data.get("level_adjust", {}), where, f"{field}.level_adjust", "levels"
        )
        return cls(scores=scores, gamma=gamma, window=window, level_adjust=levels)


def check_calibration(calibration: str) -> Calibration:
    """``calibration`` if it is one of :data:`CALIBRATIONS`, else a :class:`ConfigError`."""
    if calibration not in CALIBRATIONS:
        raise ConfigError(
            f"calibration must be one of {', '.join(CALIBRATIONS)}, got {calibration!r}"
        )
    return cast(Calibration, calibration)


def make_calibrator(
    calibration: str,
    scores: ArrayLike = (),
    *,
    aci_gamma: float | None = None,
    window: int = CONFORMAL_WINDOW,
) -> ScoreCalibrator:
    """The calibrator of ``calibration`` started from out-of-sample ``scores`` (time order):
    ``"conformal_window"`` keeps the last ``window``, the others the last 1,000; ``"aci"`` adapts
    its levels (``aci_gamma``, default :data:`ACI_GAMMA`), the others only when ``aci_gamma`` is
    given. ``"none"`` gets an empty one (never read)."""
    check_calibration(calibration)
    if calibration == "conformal_window" and not (
        isinstance(window, int | np.integer)
        and not isinstance(window, bool)
        and window >= MIN_SCORES
    ):
        raise ConfigError(
            f"the conformal window must be a whole number of scores >= {MIN_SCORES}, got "
            f"{window!r}; e.g. {CONFORMAL_WINDOW}"
        )
    gamma = aci_gamma
    if calibration == "aci" and gamma is None:
        gamma = ACI_GAMMA
    if calibration == "none":
        return ScoreCalibrator(gamma=None)
    size = int(window) if calibration == "conformal_window" else _ALL_SCORES
    return ScoreCalibrator(np.asarray(scores, dtype="float64"), gamma=gamma, window=size)


@dataclass
class BlendedShape(StandardShape):
    """The equal-weight quantile average of ``parts``: its ``tau``-quantile is exactly the mean of
    theirs; its CDF and CRPS are those of that average tabulated on 1,000 levels (``scores``)."""

    parts: tuple[StandardShape, ...] = ()

    def ppf(self, levels: ArrayLike) -> NDArray[np.float64]:
        tau = np.asarray(levels, dtype="float64")
        return np.asarray(np.mean([p.ppf(tau) for p in self.parts], axis=0), dtype="float64")


def blend_shapes(a: StandardShape, b: StandardShape) -> BlendedShape:
    """The equal-weight quantile average of two shapes (see :class:`BlendedShape`)."""
    grid = (np.arange(_BLEND_GRID) + 0.5) / _BLEND_GRID
    return BlendedShape("empirical", scores=0.5 * (a.ppf(grid) + b.ppf(grid)), parts=(a, b))


def calibrated_shape(
    calibration: str, parametric: StandardShape, calibrator: ScoreCalibrator
) -> StandardShape:
    """The shape ``calibration`` gives: the parametric one (``"none"``), the calibrator's
    empirical one, or their blend (``"blend"``)."""
    if check_calibration(calibration) == "none":
        return parametric
    if calibration == "blend":
        return blend_shapes(parametric, calibrator.shape())
    return calibrator.shape()
