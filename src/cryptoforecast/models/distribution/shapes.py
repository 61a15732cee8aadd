"""Standardised shapes and the location-scale predictive distribution built on them.

A forecast of the ``h``-step log return is ``mu + sigma * Z``: ``mu`` from a point model (or 0),
``sigma`` from a volatility model, ``Z`` a :class:`StandardShape` (normal, Student-t with a scale,
or the empirical distribution of calibrated standardised residuals). Quantiles are monotone in the
level by construction, so they never cross.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cryptoforecast.evaluation.scoring import (
    crps_ensemble,
    crps_from_quantiles,
    crps_gaussian,
    crps_student_t,
)
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.stored_values import (
    MAX_ABS_SCORE,
    refuse,
    stored_choice,
    stored_number,
    stored_numbers,
    stored_object,
)

__all__ = [
    "QUANTILES",
    "PredictiveDistribution",
    "StandardShape",
    "check_levels",
    "coverage_levels",
    "fit_student_t",
]

#: default quantile levels of every predictive distribution
QUANTILES: tuple[float, ...] = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)


def check_levels(quantiles: ArrayLike) -> NDArray[np.float64]:
    """Quantile levels as a sorted float array in (0, 1), or :class:`DataError`."""
    tau = np.asarray(quantiles, dtype="float64").reshape(-1)
    if tau.size == 0 or np.any(~((tau > 0) & (tau < 1))):
        raise DataError(
            f"quantile levels must be floats strictly between 0 and 1 (e.g. 0.05, 0.5, 0.95), "
            f"got {np.asarray(quantiles).tolist()}"
        )
    return np.unique(tau)


def coverage_levels(coverage: float | None = None, level: Any = None) -> list[float]:
    """Central coverages from ``coverage=0.8`` or the ecosystem's ``level=[80, 95]`` (percent)."""
    if level is not None:
        values = [float(v) / 100.0 for v in np.atleast_1d(np.asarray(level, dtype="float64"))]
    else:
        values = [0.8 if coverage is None else float(coverage)]
    for c in values:
        if not 0.0 < c < 1.0:
            raise DataError(
                f"interval coverage must be in (0, 1) (or level in (0, 100)), got {c!r}; "
                "e.g. coverage=0.8 or level=[80, 95]"
            )
    return values


#: degrees of freedom a fitted Student-t shape is clipped to (a variance, and near-normal at most)
T_DF_BOUNDS: tuple[float, float] = (2.1, 200.0)
#: the profile likelihood's first grid: log-spaced degrees of freedom across ``T_DF_BOUNDS``
_DF_GRID = np.geomspace(T_DF_BOUNDS[0], T_DF_BOUNDS[1], 10)


def _t_log_scale2(
    z2: NDArray[np.float64], df: NDArray[np.float64], start: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """``log s2``, the maximum-likelihood squared scale of a zero-centred ``s * T(df)`` for each
    ``df``, given the squared observations ``z2`` (at least one of them positive).

    Solves the score equation ``mean((df + 1) u / (df + u)) = 1`` with ``u = z2 / s2`` (its left
    side falls as ``s2`` grows, so the root is unique) by Newton steps on ``log s2`` from
    ``start`` (a moment estimate when not given), kept inside a bracket that halves whenever a
    step would leave it."""
    nu = df[:, None]
    mean_z2 = float(np.mean(z2))
    lo = np.full(df.size, math.log(float(np.min(z2[z2 > 0]))) - 1.0)
    hi = np.full(df.size, math.log(mean_z2 * (float(df.max()) + 1.0)) + 1.0)
    theta = np.log(mean_z2 * np.clip((df - 2.0) / df, 0.05, 1.0)) if start is None else start
    for _ in range(100):
        u = z2[None, :] * np.exp(-theta)[:, None]
        inv = 1.0 / (nu + u)
        ratio = u * inv
        g = (df + 1.0) * ratio.mean(axis=1) - 1.0  # falls as theta grows
        slope = -(df + 1.0) * df * (ratio * inv).mean(axis=1)
        lo = np.where(g > 0, theta, lo)
        hi = np.where(g < 0, theta, hi)
        nxt = theta - g / np.minimum(slope, -1e-300)
        nxt = np.where((nxt <= lo) | (nxt >= hi), 0.5 * (lo + hi), nxt)
        moved = np.abs(nxt - theta).max()
        theta = nxt
        if moved < 1e-12:
            break
    return np.asarray(theta, dtype="float64")


def _t_loglik(
    z2: NDArray[np.float64], df: NDArray[np.float64], log_s2: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Mean log-likelihood of a zero-centred ``s * T(df)`` over the squared observations ``z2``,
    one per ``df`` (with its ``log s2``)."""
    from scipy.special import gammaln

    const = gammaln((df + 1.0) / 2.0) - gammaln(df / 2.0) - 0.5 * (np.log(np.pi * df) + log_s2)
    kernel = np.log1p(z2[None, :] * (np.exp(-log_s2) / df)[:, None]).mean(axis=1)
    return np.asarray(const - (df + 1.0) / 2.0 * kernel, dtype="float64")


def _profile_fit(values: NDArray[np.float64]) -> tuple[float, float]:
    """Maximise the profile likelihood over ``df`` in ``T_DF_BOUNDS``: the best of a log grid,
    then a bounded Brent search in ``log df`` between its neighbours."""
    from scipy.optimize import minimize_scalar

    z2 = values * values
    if not np.any(z2 > 0):
        raise DataError(
            f"cannot fit a Student-t shape to {values.size} standardised residuals that are all "
            "zero; check the scale model's inputs"
        )
    grid = _DF_GRID
    grid_theta = _t_log_scale2(z2, grid)
    ll = _t_loglik(z2, grid, grid_theta)
    best = int(np.argmax(ll))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    last = grid_theta[best : best + 1]

    def negative(log_df: float) -> float:
        nonlocal last
        df = np.array([math.exp(log_df)])
        last = _t_log_scale2(z2, df, last)
        return -float(_t_loglik(z2, df, last)[0])

    found = minimize_scalar(
        negative, bounds=(math.log(low), math.log(high)), method="bounded",
        options={"xatol": 1e-5},
    )  # fmt: skip
    df, fun = float(np.clip(math.exp(found.x), *T_DF_BOUNDS)), -float(found.fun)
    if fun < ll[best]:  # the grid point was better (an optimum at a bound)
        df = float(grid[best])
    theta = _t_log_scale2(z2, np.array([df]), grid_theta[best : best + 1])
    return df, float(math.exp(0.5 * float(theta[0])))


def fit_student_t(
    z: ArrayLike, method: Literal["profile", "mle"] = "profile"
) -> tuple[float, float]:
    """``(df, scale)`` of a zero-centred Student-t fitted by maximum likelihood to ``z``, ``df``
    in ``T_DF_BOUNDS`` (2.1 to 200).

    ``method="profile"`` (the default) maximises the profile likelihood of ``df``: for each
    ``df``, the scale's MLE solves its score equation (a few vectorised Newton steps); ``df``
    then comes from a log grid refined by a bounded Brent search. ``method="mle"`` is scipy's
    Nelder-Mead fit (``stats.t.fit``), clipped and refitted at the bound: the reference the
    profile fit is tested against. The profile fit reaches the reference's likelihood (within
    1e-9 per observation, often above it: Nelder-Mead stops at its tolerance) about six times
    faster (``benchmarks/bench_estimators.py``); ``df`` and ``scale`` differ from the
    reference's only by that tolerance.
    """
    values = np.asarray(z, dtype="float64")
    values = values[np.isfinite(values)]
    if values.size < 30:
        raise DataError(
            f"need at least 30 standardised residuals to fit a Student-t shape, got {values.size}; "
            "fit on more history"
        )
    if method == "profile":
        return _profile_fit(values)
    if method != "mle":
        raise DataError(f"a Student-t fit's method must be 'profile' or 'mle', got {method!r}")
    from scipy import stats

    df, _, scale = stats.t.fit(values, floc=0.0)
    df = float(np.clip(df, *T_DF_BOUNDS))
    if df in T_DF_BOUNDS:  # refit the scale with the clipped df
        _, _, scale = stats.t.fit(values, f0=df, floc=0.0)
    return df, float(scale)


@dataclass
class StandardShape:
    """Distribution of ``Z = (r - mu) / sigma``.

    ``kind="normal"``: N(0, scale^2); ``"t"``: scale * T(df); ``"empirical"``: the ``scores``
    (sorted standardised residuals), quantiles by the split-conformal rank rule.
    """

    kind: Literal["normal", "t", "empirical"] = "normal"
    df: float = math.inf
    scale: float = 1.0
    scores: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        self.scores = np.sort(np.asarray(self.scores, dtype="float64").reshape(-1))
        self.scores = self.scores[np.isfinite(self.scores)]
        if self.kind == "empirical" and self.scores.size < 2:
            raise DataError("an empirical shape needs at least 2 standardised residuals")
        if self.kind not in ("normal", "t", "empirical"):
            raise DataError(f"shape kind must be normal, t or empirical, got {self.kind!r}")

    def ppf(self, levels: ArrayLike) -> NDArray[np.float64]:
        from scipy import stats

        tau = np.asarray(levels, dtype="float64")
        if self.kind == "normal":
            return np.asarray(stats.norm.ppf(tau) * self.scale, dtype="float64")
        if self.kind == "t":
            return np.asarray(stats.t.ppf(tau, self.df) * self.scale, dtype="float64")
        n = self.scores.size
        # conformal rank rule: outer levels move outwards by the finite-sample correction
        adj = np.where(tau >= 0.5, np.ceil((n + 1) * tau) / n, np.floor((n + 1) * tau) / n)
        return np.asarray(np.quantile(self.scores, np.clip(adj, 0.0, 1.0)), dtype="float64")

    def centred(self) -> StandardShape:
        """This shape moved so that its median (``ppf(0.5)``) is 0: normal and t shapes already
        are; an empirical shape's scores are shifted by their median as :meth:`ppf` reads it,
        so ``mu`` of a distribution on the centred shape is its median."""
        if self.kind != "empirical":
            return self
        median = float(self.ppf([0.5])[0])
        return StandardShape("empirical", scores=self.scores - median)

    def cdf(self, z: ArrayLike) -> NDArray[np.float64]:
        from scipy import stats

        x = np.asarray(z, dtype="float64")
        if self.kind == "normal":
            return np.asarray(stats.norm.cdf(x / self.scale), dtype="float64")
        if self.kind == "t":
            return np.asarray(stats.t.cdf(x / self.scale, self.df), dtype="float64")
        n = self.scores.size
        return np.asarray(
            (np.searchsorted(self.scores, x, side="right") + 0.5) / (n + 1), dtype="float64"
        )

    def crps(self, z: ArrayLike) -> NDArray[np.float64]:
        """CRPS of this standardised distribution at each ``z``."""
        x = np.asarray(z, dtype="float64").reshape(-1)
        if self.kind == "normal":
            return crps_gaussian(x, np.zeros(x.size), np.full(x.size, self.scale))
        if self.kind == "t":
            return crps_student_t(
                x, np.full(x.size, self.df), np.zeros(x.size), np.full(x.size, self.scale)
            )
        return crps_ensemble(x, self.scores)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "df": None if math.isinf(self.df) else self.df,
            "scale": self.scale,
            "scores": [float(s) for s in self.scores],
        }

    @classmethod
    def from_dict(
        cls, data: Any, where: str = "standard shape", field: str = "shape"
    ) -> StandardShape:
        """The shape :meth:`to_dict` wrote, every value checked (a known kind, ``df`` > 2 or none,
        ``scale`` > 0, finite scores, at least 2 of them for an empirical shape): an
        :class:`ArtifactError` naming ``where``, the field and the value otherwise."""
        data = stored_object(data, where, field)
        kind = stored_choice(data.get("kind"), where, f"{field}.kind", ("normal", "t", "empirical"))
        df = data.get("df")
        scores = stored_numbers(
            data.get("scores", []), where, f"{field}.scores", low=-MAX_ABS_SCORE, high=MAX_ABS_SCORE
        )
        if kind == "empirical" and scores.size < 2:
            raise refuse(where, f"{field}.scores", "at least 2 scores", data.get("scores"))
        return cls(
            kind=kind,  # type: ignore[arg-type]
            df=math.inf
            if df is None
            else stored_number(df, where, f"{field}.df", low=2.0, low_open=True),
            scale=stored_number(
                data.get("scale", 1.0),
                where,
                f"{field}.scale",
                low=0.0,
                high=MAX_ABS_SCORE,
                low_open=True,
            ),
            scores=scores,
        )


@dataclass
class PredictiveDistribution:
    """``mu + sigma * Z`` at each origin (h-step log returns); ``level_adjust`` maps a nominal
    quantile level to the one used (adaptive calibration), identity when empty."""

    mu: pd.Series
    sigma: pd.Series
    shape: StandardShape
    level_adjust: dict[float, float] = field(default_factory=dict)

    def _used(self, tau: NDArray[np.float64]) -> NDArray[np.float64]:
        used = np.array([self.level_adjust.get(round(float(t), 6), float(t)) for t in tau])
        return np.clip(used, 1e-4, 1 - 1e-4)

    def quantiles(self, quantiles: ArrayLike) -> pd.DataFrame:
        """One float-labelled column per level; rows sorted so quantiles never cross."""
        tau = check_levels(quantiles)
        z = self.shape.ppf(self._used(tau))
        values = self.mu.to_numpy()[:, None] + self.sigma.to_numpy()[:, None] * z[None, :]
        values = np.sort(values, axis=1)  # monotone rearrangement (adaptive levels may cross)
        return pd.DataFrame(values, index=self.mu.index, columns=[float(t) for t in tau])

    def interval(self, coverage: float | None = None, level: Any = None) -> pd.DataFrame:
        """``lower``/``upper`` for one coverage, or ``lower_<L>``/``upper_<L>`` for ``level``."""
        covs = coverage_levels(coverage, level)
        out = pd.DataFrame(index=self.mu.index)
        for c in covs:
            q = self.quantiles([(1 - c) / 2, (1 + c) / 2])
            tag = "" if level is None else f"_{round(c * 100):d}"
            out[f"lower{tag}"] = q.iloc[:, 0]
            out[f"upper{tag}"] = q.iloc[:, 1]
        return out

    def cdf(self, x: float) -> pd.Series:
        z = (x - self.mu.to_numpy()) / self.sigma.to_numpy()
        return pd.Series(self.shape.cdf(z), index=self.mu.index)

    def p_up(self) -> pd.Series:
        """Probability the h-step log return is above 0."""
        return (1.0 - self.cdf(0.0)).rename("p_up")

    def p_move(self, threshold: float) -> pd.Series:
        """Probability the absolute h-step log return exceeds ``threshold`` (> 0)."""
        if not threshold > 0:
            raise DataError(
                f"threshold must be a positive log return (e.g. 0.1), got {threshold!r}"
            )
        return (self.cdf(-threshold) + 1.0 - self.cdf(threshold)).rename("p_move")

    def crps(self, y: ArrayLike) -> NDArray[np.float64]:
        """Per-origin CRPS, ``sigma * CRPS_Z((y - mu) / sigma)``: closed form for normal/t, exact
        for an empirical shape; a dense quantile grid when adaptive levels are in force."""
        obs = np.asarray(y, dtype="float64")
        if self.level_adjust:
            grid = np.linspace(0.005, 0.995, 199)
            return crps_from_quantiles(obs, self.quantiles(grid).to_numpy(), grid)
        sig = self.sigma.to_numpy()
        return sig * self.shape.crps((obs - self.mu.to_numpy()) / sig)

    def pit(self, y: ArrayLike) -> NDArray[np.float64]:
        obs = np.asarray(y, dtype="float64")
        z = (obs - self.mu.to_numpy()) / self.sigma.to_numpy()
        return self.shape.cdf(z)
