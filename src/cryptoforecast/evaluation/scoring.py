"""Scores of predictive distributions, as pure functions of arrays (lower is better unless said).

* :func:`crps_gaussian`, :func:`crps_student_t` - closed forms (``scoringrules``); the Student-t
  takes the ordinary location/scale (not the unit-variance standardisation ``arch`` uses).
* :func:`crps_ensemble` - exact CRPS of an equally weighted sample (an empirical distribution).
* :func:`crps_from_quantiles` - the general case: ``2 * integral of pinball over levels``, by the
  trapezoid rule over the levels given (more levels, closer to the exact CRPS).
* :func:`pinball_loss`, :func:`quantile_coverage`, :func:`pit_histogram`
* :func:`brier_score` - of a probability (``p_up``) against the outcome; :func:`brier_climatology`
  scores the constant base rate on the same outcomes.
* :func:`kupiec_test` (unconditional coverage of VaR violations) and :func:`christoffersen_test`
  (independence and conditional coverage).
* :func:`dm_crps` - Diebold-Mariano on per-origin CRPS differences (the project's DM code).

Interval score (Winkler) and interval coverage are :func:`~cryptoforecast.evaluation.metrics.
winkler_score` and :func:`~cryptoforecast.evaluation.metrics.interval_coverage`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cryptoforecast.evaluation.stats import DMResult, diebold_mariano_loss
from cryptoforecast.exceptions import DataError

__all__ = [
    "CoverageTest",
    "brier_climatology",
    "brier_score",
    "christoffersen_test",
    "crps_ensemble",
    "crps_from_quantiles",
    "crps_gaussian",
    "crps_student_t",
    "dm_crps",
    "kupiec_test",
    "pinball_loss",
    "pit_histogram",
    "quantile_coverage",
]

Array = NDArray[np.float64]


def _vec(x: ArrayLike, name: str) -> Array:
    arr = np.asarray(x, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise DataError(f"{name} is empty; scores need at least one forecast")
    return arr


def _positive(x: ArrayLike, name: str) -> Array:
    arr = np.asarray(x, dtype=np.float64)
    if np.any(~(arr > 0)):
        raise DataError(f"{name} must be > 0 everywhere, got min {np.nanmin(arr)!r}")
    return arr


def crps_gaussian(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> Array:
    """CRPS of ``N(mu, sigma^2)`` at each ``y`` (closed form)."""
    import scoringrules as sr

    return np.asarray(sr.crps_normal(np.asarray(y, float), mu, _positive(sigma, "sigma")), float)


def crps_student_t(y: ArrayLike, df: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> Array:
    """CRPS of ``loc + scale * T(df)`` at each ``y`` (closed form, ``df > 1``)."""
    import scoringrules as sr

    if np.any(np.asarray(df, float) <= 1):
        raise DataError(f"df must be > 1 for a finite CRPS, got {df!r}")
    return np.asarray(
        sr.crps_t(np.asarray(y, float), df, loc, _positive(scale, "scale")), dtype=float
    )


def crps_ensemble(y: ArrayLike, members: ArrayLike) -> Array:
    """Exact CRPS of the empirical distribution of ``members`` (``(n, m)`` or ``(m,)`` shared)."""
    import scoringrules as sr

    obs = np.asarray(y, float).reshape(-1)
    fct = np.asarray(members, float)
    if fct.ndim == 1:
        fct = np.broadcast_to(np.sort(fct), (obs.size, fct.size))
    else:
        fct = np.sort(fct, axis=1)
    return np.asarray(
        sr.crps_ensemble(obs, fct, estimator="pwm", sorted_ensemble=True), dtype=float
    )


def _levels(levels: ArrayLike) -> Array:
    tau = _vec(levels, "levels")
    if np.any((tau <= 0) | (tau >= 1)) or np.any(np.diff(tau) <= 0):
        raise DataError(f"quantile levels must be increasing and in (0, 1), got {tau.tolist()}")
    return tau


def pinball_loss(y: ArrayLike, q: ArrayLike, level: float) -> float:
    """Mean pinball (quantile) loss of the quantile forecasts ``q`` at ``level``."""
    t, p = _vec(y, "y"), _vec(q, "q")
    if t.size != p.size:
        raise DataError(f"y has {t.size} values but q has {p.size}; one quantile per origin")
    if not 0 < level < 1:
        raise DataError(f"level must be in (0, 1), got {level!r}")
    diff = t - p
    return float(np.mean(np.maximum(level * diff, (level - 1) * diff)))


def crps_from_quantiles(y: ArrayLike, quantiles: ArrayLike, levels: ArrayLike) -> Array:
    """Per-origin CRPS approximated from quantile forecasts ``(n, k)`` at ``levels`` ``(k,)``.

    ``CRPS = 2 * integral_0^1 pinball_tau dtau``; the integral is the trapezoid rule over the
    levels, with the pinball held constant from the outermost levels to 0 and 1. Exact in the
    limit of a fine grid; with the 9 default levels it is a coarse, proper-in-spirit score.
    """
    tau = _levels(levels)
    obs = np.asarray(y, float).reshape(-1, 1)
    qs = np.asarray(quantiles, float).reshape(obs.shape[0], -1)
    if qs.shape[1] != tau.size:
        raise DataError(f"quantiles have {qs.shape[1]} columns but {tau.size} levels were given")
    diff = obs - qs
    pin = np.maximum(tau * diff, (tau - 1) * diff)
    edges = np.concatenate([[0.0], (tau[1:] + tau[:-1]) / 2, [1.0]])
    return np.asarray(2.0 * pin @ np.diff(edges), dtype=float)


def quantile_coverage(y: ArrayLike, q: ArrayLike) -> float:
    """Fraction of outcomes at or below the quantile forecasts (``level`` when calibrated)."""
    t, p = _vec(y, "y"), _vec(q, "q")
    ok = np.isfinite(t) & np.isfinite(p)
    return float(np.mean(t[ok] <= p[ok])) if ok.any() else math.nan


def pit_histogram(pit: ArrayLike, bins: int = 10) -> Array:
    """Share of PIT values in each of ``bins`` equal bins of [0, 1] (flat at 1/bins if calibrated)."""
    u = _vec(pit, "pit")
    counts, _ = np.histogram(np.clip(u, 0.0, 1.0), bins=bins, range=(0.0, 1.0))
    return np.asarray(counts / u.size, dtype=float)


def brier_score(p: ArrayLike, outcome: ArrayLike) -> float:
    """Mean squared difference between the probability ``p`` and the 0/1 ``outcome``."""
    prob, obs = _vec(p, "p"), _vec(outcome, "outcome")
    if prob.size != obs.size:
        raise DataError(f"p has {prob.size} values but outcome has {obs.size}")
    if np.any((prob < 0) | (prob > 1)):
        raise DataError("probabilities must lie in [0, 1]")
    return float(np.mean((prob - obs) ** 2))


def brier_climatology(outcome: ArrayLike, base_rate: float | None = None) -> float:
    """Brier score of the constant ``base_rate`` (default: the outcomes' own frequency)."""
    obs = _vec(outcome, "outcome")
    rate = float(obs.mean()) if base_rate is None else float(base_rate)
    return brier_score(np.full(obs.size, rate), obs)


class CoverageTest(NamedTuple):
    """Likelihood-ratio VaR backtest: ``statistic`` ~ chi2(``dof``) under correct coverage."""

    statistic: float
    pvalue: float
    n: int
    violations: int
    expected_rate: float
    dof: int


def _xlogy(x: float, y: float) -> float:
    return 0.0 if x == 0 else x * math.log(y)


def _violations(hits: ArrayLike, rate: float) -> NDArray[np.bool_]:
    if not 0 < rate < 1:
        raise DataError(f"expected violation rate must be in (0, 1), got {rate!r}")
    return _vec(hits, "violations").astype(bool)


def kupiec_test(violations: ArrayLike, rate: float) -> CoverageTest:
    """Kupiec (1995) proportion-of-failures test that violations occur at ``rate``."""
    from scipy import stats

    hit = _violations(violations, rate)
    n, x = hit.size, int(hit.sum())
    phat = x / n
    lr = -2.0 * (
        _xlogy(n - x, 1 - rate) + _xlogy(x, rate) - _xlogy(n - x, 1 - phat) - _xlogy(x, phat)
    )
    lr = max(lr, 0.0)
    return CoverageTest(lr, float(stats.chi2.sf(lr, 1)), n, x, rate, 1)


def christoffersen_test(violations: ArrayLike, rate: float) -> CoverageTest:
    """Christoffersen (1998) conditional coverage: Kupiec plus independence (first-order Markov);
    ``statistic`` ~ chi2(2). Overlapping h-step forecasts violate independence by design, so read
    it for ``h = 1``."""
    from scipy import stats

    hit = _violations(violations, rate)
    prev, cur = hit[:-1], hit[1:]
    n00 = int(np.sum(~prev & ~cur))
    n01 = int(np.sum(~prev & cur))
    n10 = int(np.sum(prev & ~cur))
    n11 = int(np.sum(prev & cur))
    p01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    p11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    p1 = (n01 + n11) / max(n00 + n01 + n10 + n11, 1)
    lr_ind = -2.0 * (
        _xlogy(n00 + n10, 1 - p1)
        + _xlogy(n01 + n11, p1)
        - _xlogy(n00, 1 - p01)
        - _xlogy(n01, p01)
        - _xlogy(n10, 1 - p11)
        - _xlogy(n11, p11)
    )
    lr = max(kupiec_test(hit, rate).statistic + max(lr_ind, 0.0), 0.0)
    return CoverageTest(lr, float(stats.chi2.sf(lr, 2)), hit.size, int(hit.sum()), rate, 2)


def dm_crps(crps_model: ArrayLike, crps_base: ArrayLike, horizon: int = 1) -> DMResult:
    """Diebold-Mariano (HLN) on per-origin CRPS; a negative statistic favours the model."""
    return diebold_mariano_loss(crps_model, crps_base, horizon)
