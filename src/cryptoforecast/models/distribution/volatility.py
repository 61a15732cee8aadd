"""Volatility (scale) models: the spread of the ``h``-step log return at each daily origin.

Every model reads only candles up to each row to give that row's scale (causal by
construction), and is fitted only on the candles it is given: the caller truncates them at the
fit origin. ``fit`` learns parameters and a :class:`~.shapes.StandardShape`; ``predict_scale``
returns ``sigma`` per row (NaN during the warm-up).

* ``rolling_gaussian`` - 30-day rolling standard deviation times ``sqrt(h)``, normal shape (the
  baseline to beat);
* ``ewma_t`` - RiskMetrics EWMA variance (lambda 0.94) times ``h``, Student-t shape fitted to the
  standardised ``h``-step residuals;
* ``har_rv`` - log-HAR regression of the next ``h`` days' realised variance (from 4h candles) on
  daily, weekly and monthly realised variance and the Garman-Klass range estimator.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError, NotFittedError
from cryptoforecast.models.distribution.shapes import StandardShape, fit_student_t
from cryptoforecast.models.stored_values import (
    stored_number,
    stored_numbers,
    stored_object,
    stored_whole,
)

__all__ = [
    "HAR_COLUMNS",
    "EwmaT",
    "HarRV",
    "MarketData",
    "RollingGaussian",
    "VolatilityModel",
    "ewma_variance",
    "forward_sum",
    "har_design",
    "realized_measures",
]

_EPS = 1e-10


@dataclass(frozen=True)
class MarketData:
    """What the volatility models read: daily candles, optionally 4h candles and the feature frame
    (both on or within the daily candles' span).

    :attr:`realized` (the per-day realised measures) is computed once per object, and
    :meth:`until` hands its prefix on, so a walk's refits and scale predictions share one."""

    daily: pd.DataFrame
    intraday: pd.DataFrame | None = None
    features: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.daily, pd.DataFrame) or "close" not in self.daily.columns:
            raise DataError("MarketData.daily must be a candle DataFrame with a 'close' column")

    def until(self, end: pd.Timestamp) -> MarketData:
        """The same data with every candle after ``end`` dropped (what is known at ``end``)."""
        daily = self.daily.loc[:end]
        intraday = None
        if self.intraday is not None:
            intraday = self.intraday.loc[self.intraday.index < end + pd.Timedelta(days=1)]
        features = None if self.features is None else self.features.loc[:end]
        out = MarketData(daily, intraday, features)
        if "realized" in self.__dict__:
            # each day's measures read only that day's bars and the close before: a prefix
            out.__dict__["realized"] = self.__dict__["realized"].loc[:end]
        return out

    @cached_property
    def realized(self) -> pd.DataFrame:
        """:func:`realized_measures` of these candles, computed once."""
        return realized_measures(self)

    @property
    def returns(self) -> pd.Series:
        """Daily log returns of close (NaN on the first row)."""
        close = self.daily["close"].astype("float64")
        return pd.Series(np.log(close / close.shift(1)), index=close.index, name="ret")


def forward_sum(values: pd.Series, horizon: int) -> pd.Series:
    """``values[t+1] + ... + values[t+h]`` at each ``t`` (NaN where not yet known)."""
    return values.rolling(horizon).sum().shift(-horizon)


def ewma_variance(returns: pd.Series, lam: float = 0.94, seed_window: int = 30) -> pd.Series:
    """RiskMetrics ``v_t = lam * v_{t-1} + (1 - lam) * r_t^2``, seeded by the first window's mean
    square; ``v_t`` uses returns up to ``t`` and is the variance forecast for ``t+1``."""
    r2 = returns.fillna(0.0).to_numpy() ** 2
    out = np.full(r2.size, np.nan)
    if r2.size <= seed_window:
        return pd.Series(out, index=returns.index)
    v = float(np.mean(r2[1 : seed_window + 1]))
    from scipy.signal import lfilter

    # v_t = lam v_{t-1} + (1-lam) r_t^2 as a linear filter with initial state lam * v
    tail, _ = lfilter([1.0 - lam], [1.0, -lam], r2[seed_window + 1 :], zi=[lam * v])
    out[seed_window] = v
    out[seed_window + 1 :] = tail
    return pd.Series(out, index=returns.index)


def realized_measures(market: MarketData) -> pd.DataFrame:
    """Per day: ``rv`` (sum of squared 4h log returns), ``parkinson`` and ``garman_klass`` (range
    estimators summed over the 4h bars). Without 4h candles, the daily squared return and the
    daily candle's range. Days lacking 4h bars take the daily figures."""
    d = market.daily.astype("float64")
    daily_rv = market.returns.fillna(0.0) ** 2
    hl = np.log(d["high"] / d["low"]) if {"high", "low"} <= set(d.columns) else None
    if hl is None:
        return pd.DataFrame(
            {"rv": daily_rv, "parkinson": daily_rv, "garman_klass": daily_rv}, index=d.index
        )
    co = np.log(d["close"] / d["open"])
    daily = pd.DataFrame(
        {
            "rv": daily_rv,
            "parkinson": hl**2 / (4 * math.log(2)),
            "garman_klass": 0.5 * hl**2 - (2 * math.log(2) - 1) * co**2,
        },
        index=d.index,
    )
    if market.intraday is None or market.intraday.empty:
        return daily
    bar = market.intraday.astype("float64")
    lr = np.log(bar["close"] / bar["close"].shift(1)).fillna(0.0)
    bhl, bco = np.log(bar["high"] / bar["low"]), np.log(bar["close"] / bar["open"])
    per_bar = pd.DataFrame(
        {
            "rv": lr**2,
            "parkinson": bhl**2 / (4 * math.log(2)),
            "garman_klass": 0.5 * bhl**2 - (2 * math.log(2) - 1) * bco**2,
        },
        index=bar.index,
    )
    day = per_bar.index.floor("D")
    summed = per_bar.groupby(day).sum().reindex(d.index)
    return summed.fillna(daily).clip(lower=0.0)


class VolatilityModel:
    """Base: ``fit(market) -> self`` then ``predict_scale(market) -> Series`` (sigma per row)."""

    name: ClassVar[str] = "base"
    #: whether the model reads 4h candles (``MarketData.intraday``) when they are given
    reads_intraday: ClassVar[bool] = False
    shape_: StandardShape

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, read from the signature (as scikit-learn does)."""
        sig = inspect.signature(type(self).__init__)
        return {name: getattr(self, name) for name in list(sig.parameters)[1:]}

    def _raw_scale(self, market: MarketData) -> pd.Series:
        raise NotImplementedError

    def _fit_params(self, market: MarketData) -> None:
        """Learn model parameters (none by default)."""

    def _fit_shape(self, market: MarketData) -> StandardShape:
        """Student-t (df, scale) fitted to the standardised ``h``-step residuals in the fit data."""
        z = self._standardised(market)
        df, scale = fit_student_t(z)
        return StandardShape("t", df=df, scale=scale)

    def _standardised(self, market: MarketData) -> pd.Series:
        target = forward_sum(market.returns, int(self.horizon))
        z = target / self._raw_scale(market)
        return z[np.isfinite(z)]

    def fit(self, market: MarketData) -> Self:
        h = self.horizon
        if isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= 366:
            raise DataError(f"horizon must be a whole number of days >= 1, got {h!r}")
        if len(market.daily) < 60 + h:
            raise DataError(
                f"{self.name} needs at least {60 + h} daily candles to fit, got "
                f"{len(market.daily)}; load more history"
            )
        self._fit_params(market)
        self.shape_ = self._fit_shape(market)
        return self

    def predict_scale(self, market: MarketData) -> pd.Series:
        """``sigma`` of the ``h``-step log return per row (the shape's own scale is separate)."""
        if not hasattr(self, "shape_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' first."
            )
        return self._raw_scale(market).rename("sigma")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.get_params(), "shape": self.shape_.to_dict()}

    def _load_state(self, state: dict[str, Any], where: str) -> None:
        """Restore the learned parameters :meth:`to_dict` wrote into ``state`` of the file
        ``where``, checking them and the hyperparameters they are used with (an
        :class:`ArtifactError` naming the field and the value); none by default."""
        stored_whole(self.horizon, where, "volatility_model.params.horizon", low=1, high=366)


class RollingGaussian(VolatilityModel):
    """``sigma = std(last window daily log returns) * sqrt(h)``, normal shape."""

    name = "rolling_gaussian"

    def __init__(self, horizon: int = 1, window: int = 30) -> None:
        super().__init__(horizon)
        self.window = window

    def _raw_scale(self, market: MarketData) -> pd.Series:
        sd = market.returns.rolling(int(self.window), min_periods=int(self.window)).std()
        return sd * math.sqrt(self.horizon)

    def _fit_shape(self, market: MarketData) -> StandardShape:
        return StandardShape("normal")

    def _load_state(self, state: dict[str, Any], where: str) -> None:
        super()._load_state(state, where)
        stored_whole(self.window, where, "volatility_model.params.window", low=2)


class EwmaT(VolatilityModel):
    """RiskMetrics EWMA variance with ``lambda = 0.94``: ``sigma = sqrt(h * v_t)``, Student-t."""

    name = "ewma_t"

    def __init__(self, horizon: int = 1, lam: float = 0.94) -> None:
        super().__init__(horizon)
        self.lam = lam

    def _raw_scale(self, market: MarketData) -> pd.Series:
        if not 0.0 < float(self.lam) < 1.0:
            raise DataError(f"ewma lam must be in (0, 1), got {self.lam!r}; e.g. 0.94")
        return np.sqrt(ewma_variance(market.returns, float(self.lam)) * self.horizon)

    def _load_state(self, state: dict[str, Any], where: str) -> None:
        super()._load_state(state, where)
        stored_number(
            self.lam,
            where,
            "volatility_model.params.lam",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
        )


#: the columns of :func:`har_design`, one HAR coefficient each
HAR_COLUMNS: tuple[str, ...] = (
    "const",
    "log_rv_1",
    "log_rv_7",
    "log_rv_30",
    "log_gk_7",
    "log_pk_7",
)


def har_design(market: MarketData) -> pd.DataFrame:
    """The HAR regressors of each day (:data:`HAR_COLUMNS`), from candles up to it."""
    m = market.realized
    rv = m["rv"].clip(lower=_EPS)
    return pd.DataFrame(
        {
            "const": 1.0,
            "log_rv_1": np.log(rv),
            "log_rv_7": np.log(rv.rolling(7).mean()),
            "log_rv_30": np.log(rv.rolling(30).mean()),
            "log_gk_7": np.log(m["garman_klass"].clip(lower=_EPS).rolling(7).mean()),
            "log_pk_7": np.log(m["parkinson"].clip(lower=_EPS).rolling(7).mean()),
        },
        index=market.daily.index,
        columns=list(HAR_COLUMNS),
    )


class HarRV(VolatilityModel):
    """Log-HAR on realised variance: ``log RV(t+1..t+h) ~ log RV_1, RV_7, RV_30, GK_7, PK_7``.

    ``sigma = sqrt(exp(fit + s^2 / 2))`` (lognormal mean); ``ridge`` shrinks the slopes a little.
    """

    name = "har_rv"
    reads_intraday = True
    coef_: list[float]
    resid_var_: float

    def __init__(self, horizon: int = 1, ridge: float = 1e-3) -> None:
        super().__init__(horizon)
        self.ridge = ridge

    def _fit_params(self, market: MarketData) -> None:
        X = har_design(market)
        rv = market.realized["rv"].clip(lower=_EPS)
        y = np.log(forward_sum(rv, int(self.horizon)))
        ok = np.isfinite(X.to_numpy()).all(axis=1) & np.isfinite(y.to_numpy())
        A, b = X.to_numpy()[ok], y.to_numpy()[ok]
        if len(b) < 60:
            raise DataError(f"har_rv needs 60 rows with realised variance, got {len(b)}")
        penalty = float(self.ridge) * len(b) * np.eye(A.shape[1])
        penalty[0, 0] = 0.0
        coef = np.linalg.solve(A.T @ A + penalty, A.T @ b)
        self.coef_ = [float(c) for c in coef]
        self.resid_var_ = float(np.var(b - A @ coef))

    def _raw_scale(self, market: MarketData) -> pd.Series:
        pred = har_design(market).to_numpy() @ np.asarray(self.coef_)
        return pd.Series(np.sqrt(np.exp(pred + self.resid_var_ / 2)), index=market.daily.index)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["state"] = {"coef": self.coef_, "resid_var": self.resid_var_}
        return out

    def _load_state(self, state: dict[str, Any], where: str) -> None:
        super()._load_state(state, where)
        state = stored_object(state, where, "volatility_model.state")
        coef = stored_numbers(
            state.get("coef"), where, "volatility_model.state.coef", length=len(HAR_COLUMNS)
        )
        self.coef_ = [float(c) for c in coef]
        self.resid_var_ = stored_number(
            state.get("resid_var"), where, "volatility_model.state.resid_var", low=0.0
        )
