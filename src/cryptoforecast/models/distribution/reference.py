"""``garch_ref``: the textbook reference every distribution is scored against.

GARCH(1,1), zero mean, Student-t innovations, fitted with ``arch`` on the last 1,500 daily log
returns before the origin (all of them when fewer, at least 500). The variance is filtered
forward with the fitted parameters exactly as ``arch`` does (started from ``arch``'s backcast of
the fit window), so between refits each origin reads only its own and earlier returns. The
``h``-day variance is the sum of the 1..h-step variance forecasts; the shape is the standardised
Student-t at the fitted degrees of freedom, ``sqrt((nu - 2) / nu) * T(nu)``, for every horizon.
No calibration.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.exceptions import DataError, NotFittedError
from cryptoforecast.models.distribution.shapes import StandardShape
from cryptoforecast.models.distribution.volatility import MarketData, VolatilityModel
from cryptoforecast.models.stored_values import refuse, stored_number, stored_object

__all__ = ["GarchRef", "REFERENCE_WINDOW", "REFERENCE_MIN_RETURNS", "arch_backcast"]

#: daily log returns the reference is fitted on (the most recent ones before the origin)
REFERENCE_WINDOW = 1500
#: fewer returns than this before the origin: the reference cannot be fitted
REFERENCE_MIN_RETURNS = 500
_SCALE = 100.0  # arch expects returns in percent
_PARAMS = ("omega", "alpha", "beta", "nu")


def arch_backcast(r: np.ndarray) -> float:
    """``arch``'s starting variance: exponentially weighted (0.94) mean square of the first 75."""
    tau = min(75, r.size)
    w = 0.94 ** np.arange(tau)
    return float(np.sum(r[:tau] ** 2 * (w / w.sum())))


class GarchRef(VolatilityModel):
    """The reference GARCH(1,1)-t (see the module docstring)."""

    name = "garch_ref"
    params_: dict[str, float]
    window_start_: pd.Timestamp
    backcast_: float

    def __init__(
        self,
        horizon: int = 1,
        window: int = REFERENCE_WINDOW,
        min_returns: int = REFERENCE_MIN_RETURNS,
    ) -> None:
        super().__init__(horizon)
        self.window = window
        self.min_returns = min_returns

    def _fit_params(self, market: MarketData) -> None:
        arch = import_optional("arch", "the garch_ref reference distribution")
        returns = market.returns.dropna().iloc[-int(self.window) :]
        if len(returns) < int(self.min_returns):
            raise DataError(
                f"garch_ref needs at least {self.min_returns} daily returns before the origin, "
                f"got {len(returns)}; load more history"
            )
        r = returns.to_numpy() * _SCALE
        model = arch.arch_model(r, mean="Zero", vol="GARCH", p=1, q=1, dist="t")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.fit(disp="off", show_warning=False)
        p = res.params
        self.params_ = {
            "omega": float(p["omega"]),
            "alpha": float(p["alpha[1]"]),
            "beta": float(p["beta[1]"]),
            "nu": float(p["nu"]),
        }
        if not all(math.isfinite(v) for v in self.params_.values()):
            raise DataError(f"garch_ref did not converge to finite parameters: {self.params_}")
        self.window_start_ = returns.index[0]
        self.backcast_ = arch_backcast(r)

    def with_horizon(self, horizon: int) -> GarchRef:
        """The same fit for another horizon: the parameters do not depend on it, only the sum of
        the 1..h-step variances does (so the horizons of one origin share one ``arch`` fit)."""
        if not hasattr(self, "params_"):
            raise NotFittedError("This GarchRef instance is not fitted yet. Call 'fit' first.")
        out = GarchRef(horizon, self.window, self.min_returns)
        out.params_, out.window_start_, out.backcast_ = (
            dict(self.params_),
            self.window_start_,
            self.backcast_,
        )
        out.shape_ = self.shape_
        return out

    def one_step_variance(self, market: MarketData) -> pd.Series:
        """Per row ``t`` (from the fit window's start), the variance of ``r[t+1]`` given returns
        up to ``t``, in percent squared; NaN before the window."""
        p = self.params_
        returns = market.returns
        out = np.full(len(returns), np.nan)
        start = returns.index.searchsorted(self.window_start_)
        r = np.nan_to_num(returns.to_numpy()[start:] * _SCALE)
        s2 = p["omega"] + (p["alpha"] + p["beta"]) * self.backcast_  # arch's sigma2 at row 0
        for i in range(r.size):
            s2 = p["omega"] + p["alpha"] * r[i] * r[i] + p["beta"] * s2  # forecast of the next
            out[start + i] = s2
        return pd.Series(out, index=returns.index)

    def _raw_scale(self, market: MarketData) -> pd.Series:
        p = self.params_
        step = self.one_step_variance(market).to_numpy()
        total = np.zeros_like(step)
        m = step.copy()
        for _ in range(int(self.horizon)):
            total += m
            m = p["omega"] + (p["alpha"] + p["beta"]) * m
        return pd.Series(np.sqrt(total) / _SCALE, index=market.daily.index)

    def _fit_shape(self, market: MarketData) -> StandardShape:
        nu = self.params_["nu"]
        return StandardShape("t", df=nu, scale=math.sqrt((nu - 2.0) / nu))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["state"] = {
            **self.params_,
            "window_start": self.window_start_.isoformat(),
            "backcast": self.backcast_,
        }
        return out

    def _load_state(self, state: dict[str, Any], where: str) -> None:
        """The fitted parameters, checked: ``omega`` > 0, ``alpha`` and ``beta`` >= 0, ``nu`` > 2
        (a t with a variance), a positive backcast and a window start, all finite."""
        super()._load_state(state, where)
        field = "volatility_model.state"
        state = stored_object(state, where, field)
        wanted = {*_PARAMS, "window_start", "backcast"}
        if set(state) != wanted:
            raise refuse(where, field, f"the entries {', '.join(sorted(wanted))}", sorted(state))
        params = {k: stored_number(state[k], where, f"{field}.{k}") for k in _PARAMS}
        stored_number(params["omega"], where, f"{field}.omega", low=0.0, low_open=True)
        stored_number(params["alpha"], where, f"{field}.alpha", low=0.0)
        stored_number(params["beta"], where, f"{field}.beta", low=0.0)
        stored_number(params["nu"], where, f"{field}.nu", low=2.0, low_open=True)
        backcast = stored_number(state["backcast"], where, f"{field}.backcast", low=0.0)
        try:
            start = pd.Timestamp(state["window_start"])
        except (TypeError, ValueError):
            raise refuse(where, f"{field}.window_start", "a time", state["window_start"]) from None
        self.params_, self.backcast_, self.window_start_ = params, backcast, start
