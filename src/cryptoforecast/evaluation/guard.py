"""The live guard: a sequential test of whether a served point model is losing to naive.

The test, chosen before any run and calibrated by simulation only (never on a scored period):

* **Loss differential.** For each origin ``t`` whose ``h``-step outcome is known (an error of
  origin ``t`` is known only at ``t + h``), ``d_t = |e_model,t| - |e_naive,t|``: the absolute
  error of the model's forecast minus the no-change forecast's (prices, or log returns). A model
  losing to naive has a positive mean ``d``.
* **Standardised.** ``z_t = d_t / s_t``, clipped to ``[-clip, clip]``, where ``s_t`` is the sample
  standard deviation of the ``window`` differentials known *before* ``d_t`` (at least
  ``min_errors`` of them; before that nothing accumulates), floored at 1% of naive's mean
  absolute error over the same window (a model that equals naive has ``z = 0``: no evidence).
  Standardising by the differential's own spread makes the false-alarm rate nearly independent
  of how closely the model's errors follow naive's, and of the volatility regime.
* **One-sided CUSUM.** ``S_t = max(0, S_{t-1} + z_t - drift)``, updated in origin order as each
  error becomes known; the guard **trips** when ``S_t > threshold``. After a trip the statistic
  and the scale's history restart (the demoted model's pending errors are not its successor's).
* **Calibration.** ``threshold`` per horizon gives an in-control average run length (ARL0) of
  :data:`ARL0` known errors: a model as accurate as naive trips about once every 2,000
  origins however often the statistic is looked at (it is looked at once per known error; a
  CUSUM's run length is a property of the path, not of the looks). "As accurate as naive" is
  simulated (:func:`simulate_differentials`) with the ``h``-step overlap: both errors are sums of
  the same ``h`` consecutive daily moves (``h - 1`` shared by consecutive errors), Student-t(4)
  daily moves with clustered volatility, and model/naive error correlation ``rho`` of 0, 0.5 and
  0.9; each horizon's threshold is the largest of the three (:func:`calibrate_threshold`,
  restarts included). ``benchmarks/bench_guard.py`` prints the table in
  :data:`CALIBRATED_THRESHOLDS`, the ARL0 it achieves and the detection delays.

The defaults (``drift`` 0.5, ``window`` 90, ``min_errors`` 30, ``clip`` 4) are the only
parameters the table is calibrated for; other ones need their own ``thresholds``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ConfigError

__all__ = [
    "ARL0",
    "CALIBRATED_THRESHOLDS",
    "DETECTION_DELAY_P95",
    "GUARD_REASON",
    "GuardParams",
    "GuardTrip",
    "GuardWalk",
    "LossGuard",
    "calibrate_threshold",
    "cusum_run",
    "detection_delays",
    "guard_params",
    "guard_walk",
    "simulate_differentials",
]

#: the in-control average run length (in known errors) the calibrated thresholds give
ARL0 = 2000
#: every guard demotion's history reason starts with this (and its gate event with
#: ``"gate failed: " + GUARD_REASON``)
GUARD_REASON = "live guard"
#: the floor of the differential's scale, as a share of naive's mean absolute error
_FLOOR = 0.01
#: the defaults the thresholds below are calibrated for
_DEFAULTS = {"drift": 0.5, "window": 90, "min_errors": 30, "clip": 4.0}
#: threshold per horizon for ARL0 = 2000 at the defaults (benchmarks/bench_guard.py)
CALIBRATED_THRESHOLDS: dict[int, float] = {
    1: 7.0,
    2: 10.25,
    3: 14.0,
    4: 16.0,
    5: 19.25,
    6: 21.75,
    7: 24.25,
    8: 26.5,
    9: 28.5,
    10: 29.75,
    11: 33.0,
    12: 33.75,
    13: 35.25,
    14: 37.75,
}
#: 95th percentile of the delay (origins from the first bad origin to the trip, the h-origin
#: wait included) when the loss differential's mean moves up by one of its standard deviations
#: (benchmarks/bench_guard.py); the delay the guard states
DETECTION_DELAY_P95: dict[int, float] = {
    1: 39.0,
    2: 53.1,
    3: 70.0,
    4: 77.0,
    5: 96.2,
    6: 101.0,
    7: 111.0,
    8: 126.0,
    9: 124.0,
    10: 139.0,
    11: 151.2,
    12: 155.0,
    13: 169.1,
    14: 190.1,
}


@dataclass(frozen=True)
class GuardParams:
    """The test's parameters (module docstring). ``thresholds`` maps a horizon to its threshold
    (``None``: :data:`CALIBRATED_THRESHOLDS`, which hold for the default parameters only)."""

    drift: float = _DEFAULTS["drift"]
    window: int = int(_DEFAULTS["window"])
    min_errors: int = int(_DEFAULTS["min_errors"])
    clip: float = _DEFAULTS["clip"]
    thresholds: Mapping[int, float] | None = None

    def __post_init__(self) -> None:
        for name, low in (("drift", 0.0), ("clip", 0.0)):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= low:
                raise ConfigError(f"guard {name} must be a finite number > {low}, got {value!r}")
        for name, low in (("window", 2), ("min_errors", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"guard {name} must be a whole number >= {low}, got {value!r}")
        if self.min_errors > self.window:
            raise ConfigError(
                f"guard min_errors ({self.min_errors}) must be at most window ({self.window}): "
                "the scale is estimated from the last `window` known errors"
            )
        for h, value in (self.thresholds or {}).items():
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ConfigError(
                    f"guard threshold for horizon {h} must be a finite number > 0, got {value!r}"
                )
        changed = {k: getattr(self, k) for k, v in _DEFAULTS.items() if getattr(self, k) != v}
        if changed and self.thresholds is None:
            raise ConfigError(
                f"the guard's calibrated thresholds hold for {_DEFAULTS} only, got {changed}; "
                "give `thresholds` per horizon for these parameters (benchmarks/bench_guard.py "
                "calibrates them) or keep the defaults"
            )

    def threshold(self, horizon: int) -> float:
        """The threshold at ``horizon`` (a ConfigError when none is known for it)."""
        table = CALIBRATED_THRESHOLDS if self.thresholds is None else self.thresholds
        if horizon not in table:
            raise ConfigError(
                f"the guard has no threshold for horizon {horizon!r} (it has {sorted(table)}); "
                "add one to guard.thresholds"
            )
        return float(table[horizon])


def guard_params(section: Any) -> GuardParams:
    """:class:`GuardParams` from a configuration section with the same fields (the ``guard``
    section of the settings)."""
    thresholds = getattr(section, "thresholds", None)
    return GuardParams(
        drift=float(section.drift),
        window=int(section.window),
        min_errors=int(section.min_errors),
        clip=float(section.clip),
        thresholds=None
        if thresholds is None
        else {int(h): float(t) for h, t in thresholds.items()},
    )


@dataclass(frozen=True)
class GuardTrip:
    """The evidence of one trip: the decision ``origin``, the statistic and threshold, the ``n``
    scored origins of the excursion that tripped it (since the statistic last left 0: the
    estimated change point), the model's and naive's mean absolute error over them, and the
    first and last of those origins."""

    origin: Any
    statistic: float
    threshold: float
    n: int
    model_mae: float
    naive_mae: float
    first_origin: Any
    last_origin: Any

    def reason(self) -> str:
        """The evidence in one sentence (a registry history reason)."""
        return (
            f"{GUARD_REASON}: losing to naive, CUSUM {self.statistic:.2f} > {self.threshold:.2f} "
            f"over {self.n} scored origins {_day(self.first_origin)}..{_day(self.last_origin)} "
            f"(MAE {self.model_mae:.6g} vs naive {self.naive_mae:.6g})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "statistic": self.statistic,
            "threshold": self.threshold,
            "n": self.n,
            "model_mae": self.model_mae,
            "naive_mae": self.naive_mae,
            "first_origin": self.first_origin,
            "last_origin": self.last_origin,
        }


def _day(t: Any) -> str:
    return f"{t:%Y-%m-%d}" if hasattr(t, "strftime") else str(t)


class LossGuard:
    """The test, fed one known error at a time in origin order (:meth:`update`)."""

    def __init__(self, horizon: int, params: GuardParams | None = None) -> None:
        self.params = params or GuardParams()
        self.horizon = horizon
        self.threshold = self.params.threshold(horizon)
        self.restart()

    def restart(self) -> None:
        """Forget everything (after a trip, or when the track starts again)."""
        self.statistic = 0.0
        self._d: deque[float] = deque(maxlen=self.params.window)
        self._naive: deque[float] = deque(maxlen=self.params.window)
        self.n = 0
        self._sum_model = 0.0
        self._sum_naive = 0.0
        self.first_origin: Any = None
        self.last_origin: Any = None

    def update(self, origin: Any, model_error: float, naive_error: float) -> GuardTrip | None:
        """Add the now-known errors of ``origin``; the evidence when the guard trips (then it
        restarts), else ``None``."""
        a, b = abs(float(model_error)), abs(float(naive_error))
        if not (math.isfinite(a) and math.isfinite(b)):
            return None
        d = a - b
        if len(self._d) >= self.params.min_errors:
            past = np.fromiter(self._d, dtype="float64")
            scale = max(float(past.std(ddof=1)), _FLOOR * float(np.mean(self._naive)))
            z = 0.0 if scale <= 0 else min(max(d / scale, -self.params.clip), self.params.clip)
            self.statistic = max(0.0, self.statistic + z - self.params.drift)
        self._d.append(d)
        self._naive.append(b)
        if self.statistic <= 0:  # the excursion (since the statistic last left 0) starts again
            self.n, self._sum_model, self._sum_naive = 0, 0.0, 0.0
            self.first_origin = None
        else:
            self.n += 1
            self._sum_model += a
            self._sum_naive += b
            self.first_origin = origin if self.first_origin is None else self.first_origin
            self.last_origin = origin
        if self.statistic <= self.threshold:
            return None
        trip = GuardTrip(
            origin=None,
            statistic=self.statistic,
            threshold=self.threshold,
            n=self.n,
            model_mae=self._sum_model / self.n,
            naive_mae=self._sum_naive / self.n,
            first_origin=self.first_origin,
            last_origin=self.last_origin,
        )
        self.restart()
        return trip


@dataclass
class GuardWalk:
    """:func:`guard_walk`'s result: per decision origin the ``statistic`` after every error
    known by then, and ``tripped`` (True at the origin of each trip); ``trips`` their
    evidence."""

    statistic: pd.Series
    tripped: pd.Series
    trips: list[GuardTrip] = field(default_factory=list)


def guard_walk(
    origins: Sequence[Any],
    y_true: Sequence[float],
    y_pred: Sequence[float],
    naive: Sequence[float],
    horizon: int,
    params: GuardParams | None = None,
) -> GuardWalk:
    """The guard over consecutive ``origins`` (one per candle, in order) of one model: at
    origin ``i`` the errors of origins up to ``i - horizon`` are known (and nothing later)."""
    guard = LossGuard(horizon, params)
    idx = pd.Index(origins)
    yt, yp, nv = (np.asarray(v, dtype="float64") for v in (y_true, y_pred, naive))
    stat = np.zeros(len(idx))
    tripped = np.zeros(len(idx), dtype=bool)
    trips: list[GuardTrip] = []
    for i in range(len(idx)):
        j = i - horizon  # the origin whose error becomes known at origin i
        if j >= 0:
            trip = guard.update(idx[j], yt[j] - yp[j], yt[j] - nv[j])
            if trip is not None:
                trips.append(_at(trip, idx[i]))
                tripped[i] = True
        stat[i] = guard.statistic
    return GuardWalk(pd.Series(stat, index=idx), pd.Series(tripped, index=idx), trips)


def _at(trip: GuardTrip, origin: Any) -> GuardTrip:
    return GuardTrip(**{**trip.as_dict(), "origin": origin})


# -- calibration ------------------------------------------------------------------------------
def simulate_differentials(
    horizon: int, n: int, paths: int, rho: float, seed: int, df: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(d, naive_abs)`` of shape ``(paths, n)`` for a model exactly as accurate as naive.

    Daily moves ``(m, u)`` are Student-t(``df``) pairs with correlation ``rho``, scaled by a
    clustered volatility (log-AR(1), persistence 0.98); naive's ``h``-step error is the sum of
    ``h`` consecutive moves ``u``, the model's the sum of the same days' ``m`` (consecutive errors
    share ``h - 1`` days). The two errors are exchangeable, so ``E[d] = 0``."""
    rng = np.random.default_rng(seed)
    days = n + horizon
    t1 = rng.standard_t(df, size=(paths, days))
    t2 = rng.standard_t(df, size=(paths, days))
    m = t1
    u = rho * t1 + math.sqrt(1 - rho**2) * t2
    logvol = np.zeros((paths, days))
    shocks = rng.normal(0.0, 0.2 * math.sqrt(1 - 0.98**2), size=(paths, days))
    for i in range(1, days):
        logvol[:, i] = 0.98 * logvol[:, i - 1] + shocks[:, i]
    vol = np.exp(logvol)
    cm = np.cumsum(np.pad(m * vol, ((0, 0), (1, 0))), axis=1)
    cu = np.cumsum(np.pad(u * vol, ((0, 0), (1, 0))), axis=1)
    em = cm[:, horizon : horizon + n] - cm[:, :n]
    eu = cu[:, horizon : horizon + n] - cu[:, :n]
    return np.abs(em) - np.abs(eu), np.abs(eu)


def cusum_run(
    d: np.ndarray, naive_abs: np.ndarray, thresholds: Sequence[float], params: GuardParams
) -> np.ndarray:
    """Alarm counts of the guard (restarting after each alarm) on every path of ``d``, for each
    threshold: shape ``(len(thresholds),)``. The same arithmetic as :class:`LossGuard`,
    vectorised over paths and thresholds (a test keeps them equal)."""
    return _cusum(d, naive_abs, thresholds, params)[0]


def _cusum(
    d: np.ndarray,
    naive_abs: np.ndarray,
    thresholds: Sequence[float],
    params: GuardParams,
    after: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(alarm counts per threshold, first alarm index at or after ``after`` per threshold and
    path (-1: none), the statistic after the last error per threshold and path)."""
    paths, n = d.shape
    hs = np.asarray(thresholds, dtype="float64")[:, None]
    c1 = np.pad(np.cumsum(d, axis=1), ((0, 0), (1, 0)))
    c2 = np.pad(np.cumsum(d * d, axis=1), ((0, 0), (1, 0)))
    cn = np.pad(np.cumsum(naive_abs, axis=1), ((0, 0), (1, 0)))
    rows = np.arange(paths)[None, :]
    start = np.zeros((len(hs), paths), dtype=int)
    stat = np.zeros((len(hs), paths))
    alarms = np.zeros(len(hs), dtype=int)
    first = np.full((len(hs), paths), -1)
    w, k, clip = params.window, params.drift, params.clip
    for j in range(n):
        lo = np.maximum(start, j - w)
        cnt = j - lo
        ok = cnt >= params.min_errors
        safe = np.maximum(cnt, 2)
        s1 = c1[rows, j] - c1[rows, lo]
        s2 = c2[rows, j] - c2[rows, lo]
        mean = s1 / safe
        var = np.maximum((s2 - safe * mean * mean) / (safe - 1), 0.0)
        floor = _FLOOR * (cn[rows, j] - cn[rows, lo]) / safe
        scale = np.maximum(np.sqrt(var), floor)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(scale > 0, np.clip(d[rows, j] / scale, -clip, clip), 0.0)
        stat = np.where(ok, np.maximum(0.0, stat + z - k), stat)
        hit = stat > hs
        alarms += hit.sum(axis=1)
        if j >= after:
            first = np.where(hit & (first < 0), j, first)
        stat = np.where(hit, 0.0, stat)
        start = np.where(hit, j + 1, start)
    return alarms, first, stat


def detection_delays(
    horizon: int,
    shift: float,
    params: GuardParams | None = None,
    *,
    rho: float = 0.0,
    pre: int = 200,
    post: int = 400,
    paths: int = 400,
    seed: int = 7,
) -> np.ndarray:
    """Per simulated path, origins from the first bad origin to the trip: ``pre`` in-control
    errors (:func:`simulate_differentials`), then the differential's mean moves up by ``shift``
    of its in-control standard deviation; the trip is counted at the origin where the error
    that tripped it is known (``horizon`` later). NaN: no trip within ``post`` origins."""
    params = params or GuardParams()
    d, b = simulate_differentials(horizon, pre + post, paths, rho, seed)
    d = d.copy()
    d[:, pre:] += shift * float(d[:, :pre].std())
    _, first, _ = _cusum(d, b, [params.threshold(horizon)], params, after=pre)
    out = (first[0] - pre + horizon).astype("float64")
    out[first[0] < 0] = np.nan
    return out


def calibrate_threshold(
    horizon: int,
    params: GuardParams | None = None,
    *,
    arl0: float = ARL0,
    rhos: Sequence[float] = (0.0, 0.5, 0.9),
    n: int = 20_000,
    paths: int = 40,
    seed: int = 2024,
) -> tuple[float, dict[float, float]]:
    """The smallest threshold on a grid whose simulated ARL0 (known errors per alarm, restarts
    included) reaches ``arl0`` under every ``rho``; returns it and the ARL0 at it per ``rho``."""
    params = params or GuardParams(thresholds={horizon: 1.0})
    grid = np.round(np.arange(1.0, 60.0, 0.25), 2)
    runs: dict[float, np.ndarray] = {}
    for i, rho in enumerate(rhos):
        d, b = simulate_differentials(horizon, n, paths, rho, seed + 1000 * horizon + i)
        runs[rho] = n * paths / np.maximum(cusum_run(d, b, list(grid), params), 1)
    ok = np.all([runs[rho] >= arl0 for rho in rhos], axis=0)
    if not ok[-1]:
        raise ConfigError(f"no threshold up to {grid[-1]} reaches ARL0 {arl0} at h={horizon}")
    at = int(len(ok) - np.argmin(ok[::-1])) if not ok.all() else 0  # from here on, all reach it
    return float(grid[at]), {rho: float(runs[rho][at]) for rho in rhos}
