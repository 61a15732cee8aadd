"""``garch_t``: GARCH(1,1) or GJR-GARCH(1,1,1) with Student-t innovations, fitted by ``arch``.

Returns are scaled by 100 for the fit, as ``arch`` expects. ``arch``'s Student-t is standardised
to unit variance, so its quantiles are ``sqrt((nu - 2) / nu) * T(nu)``. The filtered variance is
run forward with the fitted parameters over whatever candles ``predict_scale`` is given (each
row reads only earlier returns). The ``h``-step variance is the sum of the expected one-step
variances (exact for symmetric innovations); the shape of the ``h``-day sum, which has no closed
form, comes from simulating the fitted model from its last state.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.models.distribution.shapes import StandardShape
from cryptoforecast.models.distribution.volatility import MarketData, VolatilityModel
from cryptoforecast.models.stored_values import refuse, stored_number, stored_object

__all__ = ["GarchT", "garch_variance"]

_SCALE = 100.0
#: the fitted parameters, as saved
_PARAMS = ("omega", "alpha", "gamma", "beta", "nu")


def garch_variance(
    r: np.ndarray, omega: float, alpha: float, gamma: float, beta: float, seed: int = 30
) -> np.ndarray:
    """One-step-ahead variance (of ``r`` units) made at each row from returns up to it.

    Seeded with the mean square of the first ``seed`` returns; NaN before that.
    """
    n = r.size
    out = np.full(n, np.nan)
    if n <= seed:
        return out
    r = np.nan_to_num(r)
    s2 = float(np.mean(r[1 : seed + 1] ** 2))
    for t in range(seed + 1, n):
        e2 = r[t] * r[t]
        s2 = omega + (alpha + (gamma if r[t] < 0 else 0.0)) * e2 + beta * s2
        out[t] = s2
    return out


class GarchT(VolatilityModel):
    """GARCH(1,1)-t (``gjr=False``) or GJR-GARCH(1,1,1)-t (``gjr=True``) through ``arch``."""

    name = "garch_t"
    params_: dict[str, float]

    def __init__(
        self, horizon: int = 1, gjr: bool = False, n_sim: int = 4000, random_state: int = 42
    ) -> None:
        super().__init__(horizon)
        self.gjr = gjr
        self.n_sim = n_sim
        self.random_state = random_state

    def _fit_params(self, market: MarketData) -> None:
        arch = import_optional("arch", "the garch_t volatility model")
        r = market.returns.dropna().to_numpy() * _SCALE
        model = arch.arch_model(
            r, mean="Zero", vol="GARCH", p=1, o=1 if self.gjr else 0, q=1, dist="t"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.fit(disp="off", show_warning=False, options={"maxiter": 300})
        p = res.params
        self.params_ = {
            "omega": float(p["omega"]),
            "alpha": float(p["alpha[1]"]),
            "gamma": float(p["gamma[1]"]) if self.gjr else 0.0,
            "beta": float(p["beta[1]"]),
            "nu": float(p["nu"]),
        }

    @property
    def _persistence(self) -> float:
        p = self.params_
        return min(p["alpha"] + p["gamma"] / 2 + p["beta"], 0.9999)

    def _h_variance(self, one_step: np.ndarray) -> np.ndarray:
        """Sum of expected one-step variances over ``h`` steps, from the first one."""
        omega, pers = self.params_["omega"], self._persistence
        total = np.zeros_like(one_step)
        m = one_step.copy()
        for _ in range(int(self.horizon)):
            total += m
            m = omega + pers * m
        return total

    def _raw_scale(self, market: MarketData) -> pd.Series:
        p = self.params_
        r = market.returns.to_numpy() * _SCALE
        s2 = garch_variance(r, p["omega"], p["alpha"], p["gamma"], p["beta"])
        return pd.Series(np.sqrt(self._h_variance(s2)) / _SCALE, index=market.daily.index)

    def _fit_shape(self, market: MarketData) -> StandardShape:
        nu = self.params_["nu"]
        unit = math.sqrt((nu - 2.0) / nu)
        if self.horizon == 1:
            return StandardShape("t", df=nu, scale=unit)
        # h-day sums: simulate from the last filtered state, standardise by the analytic scale
        rng = np.random.default_rng(self.random_state)
        p = self.params_
        r = market.returns.to_numpy() * _SCALE
        s2_last = garch_variance(r, p["omega"], p["alpha"], p["gamma"], p["beta"])[-1]
        n = int(self.n_sim)
        s2 = np.full(n, s2_last)
        total = np.zeros(n)
        for _ in range(int(self.horizon)):
            e = rng.standard_t(nu, n) * unit * np.sqrt(s2)
            total += e
            s2 = p["omega"] + (p["alpha"] + p["gamma"] * (e < 0)) * e * e + p["beta"] * s2
        scale = math.sqrt(float(self._h_variance(np.array([s2_last]))[0]))
        return StandardShape("empirical", scores=total / scale)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["state"] = dict(self.params_)
        return out

    def _load_state(self, state: dict[str, Any], where: str) -> None:
        """The fitted parameters, checked: ``omega`` > 0, ``alpha``, ``beta`` and
        ``alpha + gamma`` >= 0, ``nu`` > 2 (a t with a variance), all finite."""
        super()._load_state(state, where)
        field = "volatility_model.state"
        state = stored_object(state, where, field)
        if set(state) != set(_PARAMS):
            raise refuse(where, field, f"the parameters {', '.join(_PARAMS)}", sorted(state))
        params = {k: stored_number(state[k], where, f"{field}.{k}") for k in _PARAMS}
        stored_number(params["omega"], where, f"{field}.omega", low=0.0, low_open=True)
        stored_number(params["alpha"], where, f"{field}.alpha", low=0.0)
        stored_number(params["beta"], where, f"{field}.beta", low=0.0)
        stored_number(params["gamma"], where, f"{field}.gamma", low=-params["alpha"])
        stored_number(params["nu"], where, f"{field}.nu", low=2.0, low_open=True)
        self.params_ = params
