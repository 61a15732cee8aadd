"""``DistributionForecaster``: location from a point model (or 0), scale from a volatility model,
shape from normalised conformal scores that were out of sample when made.

::

    dist = DistributionForecaster("garch_t", horizon=7).fit(MarketData(daily, intraday))
    q = dist.predict_quantiles(MarketData(daily, intraday), location=point_forecasts)

Saved as ``manifest.json`` plus ``distribution.json`` (the volatility model's parameters and the
calibration scores) and, for ``lightgbm_vol``, ``volatility_model.txt`` (LightGBM text). No pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ArtifactError, ConfigError, DataError, NotFittedError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.artifacts import file_sha256, staged_directory, write_manifest
from cryptoforecast.models.distribution.calibration import (
    CALIBRATIONS,
    CONFORMAL_WINDOW,
    MIN_SCORES,
    Calibration,
    ScoreCalibrator,
    calibrated_shape,
    check_calibration,
    make_calibrator,
)
from cryptoforecast.models.distribution.garch import GarchT
from cryptoforecast.models.distribution.lightgbm_vol import NATIVE_FILE, LightGBMVol
from cryptoforecast.models.distribution.reference import GarchRef
from cryptoforecast.models.distribution.shapes import (
    QUANTILES,
    PredictiveDistribution,
    StandardShape,
)
from cryptoforecast.models.distribution.volatility import (
    EwmaT,
    HarRV,
    MarketData,
    RollingGaussian,
    VolatilityModel,
    forward_sum,
)
from cryptoforecast.models.stored_values import (
    refuse,
    stored_choice,
    stored_number,
    stored_object,
    stored_params,
    stored_whole,
)
from cryptoforecast.paths import confine

__all__ = [
    "BASELINES",
    "VOLATILITY_MODELS",
    "DistributionForecaster",
    "make_volatility_model",
]

VOLATILITY_MODELS: dict[str, type[VolatilityModel]] = {
    "rolling_gaussian": RollingGaussian,
    "ewma_t": EwmaT,
    "garch_t": GarchT,
    "garch_ref": GarchRef,
    "har_rv": HarRV,
    "lightgbm_vol": LightGBMVol,
}
#: the simple distributions every model is scored against: a 30-day Gaussian, EWMA-t and the
#: textbook long-window GARCH(1,1)-t reference (``garch_ref``, uncalibrated)
BASELINES: tuple[str, ...] = ("rolling_gaussian", "ewma_t", "garch_ref")
FORMAT = "cryptoforecast-distribution/1"
STATE_FILE = "distribution.json"


def make_volatility_model(name: str, horizon: int = 1, **params: Any) -> VolatilityModel:
    """An unfitted volatility model by name (``ewma_t``, ``garch_t``, ...)."""
    try:
        cls = VOLATILITY_MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown distribution {name!r}; use one of {', '.join(VOLATILITY_MODELS)}"
        ) from None
    return cls(horizon=horizon, **params)


def _location(location: pd.Series | None, index: pd.Index) -> pd.Series:
    if location is None:
        return pd.Series(0.0, index=index)
    if not isinstance(location, pd.Series):
        raise DataError(f"location must be a Series of h-step log returns, got {type(location)}")
    return location.reindex(index).astype("float64")


class DistributionForecaster:
    """Predictive distribution of the ``horizon``-day log return at each daily origin.

    Args:
        volatility: scale model name (see :data:`VOLATILITY_MODELS`).
        horizon: days ahead.
        calibration: one of :data:`~.calibration.CALIBRATIONS`: ``"none"`` (the volatility
            model's own parametric shape), ``"conformal"`` (shape from out-of-sample scores),
            ``"conformal_window"`` (from the last ``calibration_window`` of them), ``"aci"``
            (conformal with per-level adaptive steps) or ``"blend"`` (the equal-weight quantile
            average of the parametric and the conformal shapes).
        calibration_fraction: share of the fit rows whose scores come from a model fitted only on
            the rows before them (purged by ``horizon``).
        aci_gamma: per-level adaptive step for :meth:`update` (``None``: static).
        volatility_params: keyword parameters of the volatility model.
        calibration_window: scores ``"conformal_window"`` keeps.
    """

    #: whether it was fitted on 4h candles (then it serves from them too); learned by ``fit``
    uses_intraday_: bool = False

    def __init__(
        self,
        volatility: str = "ewma_t",
        horizon: int = 1,
        calibration: Calibration = "conformal",
        calibration_fraction: float = 0.3,
        aci_gamma: float | None = None,
        volatility_params: dict[str, Any] | None = None,
        calibration_window: int = CONFORMAL_WINDOW,
    ) -> None:
        self.volatility = volatility
        self.horizon = horizon
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.aci_gamma = aci_gamma
        self.volatility_params = volatility_params
        self.calibration_window = calibration_window

    def get_params(self) -> dict[str, Any]:
        return {
            "volatility": self.volatility,
            "horizon": self.horizon,
            "calibration": self.calibration,
            "calibration_fraction": self.calibration_fraction,
            "aci_gamma": self.aci_gamma,
            "volatility_params": dict(self.volatility_params or {}),
            "calibration_window": self.calibration_window,
        }

    def _new_model(self) -> VolatilityModel:
        return make_volatility_model(
            self.volatility, int(self.horizon), **(self.volatility_params or {})
        )

    def fit(self, market: MarketData, location: pd.Series | None = None) -> Self:
        """Fit on every candle in ``market``; ``location`` (point forecasts on the calibration
        rows, themselves out of sample) shifts the calibration scores, 0 when absent."""
        calibrated = check_calibration(self.calibration) != "none"
        scores = self.holdout_scores(market, location) if calibrated else np.empty(0)
        self.calibrator_ = make_calibrator(
            self.calibration, scores, aci_gamma=self.aci_gamma, window=self.calibration_window
        )
        if calibrated:
            self.calibrator_.shape()  # enough scores, or a clear error now
        self.model_ = self._new_model().fit(market)
        self.train_end_ = str(market.daily.index[-1])
        # what it read must be what it is given when it serves: 4h candles or daily only
        self.uses_intraday_ = market.intraday is not None and not market.intraday.empty
        return self

    def holdout_scores(self, market: MarketData, location: pd.Series | None = None) -> np.ndarray:
        """Scores ``(r_h - mu) / sigma`` on the last ``calibration_fraction`` of rows, from a
        volatility model fitted only on candles up to ``horizon`` days before the first of them."""
        idx = market.daily.index
        n, h = len(idx), int(self.horizon)
        first = n - int(round(n * float(self.calibration_fraction)))
        if not 0 < first - h < n:
            raise DataError(f"calibration_fraction {self.calibration_fraction!r} leaves no rows")
        fit_end = idx[first - h]
        model = self._new_model().fit(market.until(fit_end))
        sigma = model.predict_scale(market)
        target = forward_sum(market.returns, h)
        z = (target - _location(location, idx)) / sigma
        return np.asarray(z.iloc[first:].dropna().to_numpy(), dtype="float64")

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                "This DistributionForecaster instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator, or 'load' a saved one."
            )

    def predict_distribution(
        self, market: MarketData, location: pd.Series | None = None
    ) -> PredictiveDistribution:
        """The distribution at every row of ``market`` that has a scale (warm-up rows dropped)."""
        self._check_fitted()
        sigma = self.model_.predict_scale(market)
        sigma = sigma[np.isfinite(sigma) & (sigma > 0)]
        mu = _location(location, sigma.index)
        ok = mu.notna().to_numpy()
        shape = calibrated_shape(self.calibration, self.model_.shape_, self.calibrator_)
        return PredictiveDistribution(
            mu[ok], sigma[ok], shape, level_adjust=dict(self.calibrator_.level_adjust)
        )

    def predict_quantiles(
        self, market: MarketData, location: pd.Series | None = None, quantiles: Any = QUANTILES
    ) -> pd.DataFrame:
        """``h``-step log-return quantiles, one float-labelled column per level, never crossing."""
        return self.predict_distribution(market, location).quantiles(quantiles)

    def predict_interval(
        self,
        market: MarketData,
        location: pd.Series | None = None,
        coverage: float | None = 0.8,
        level: Any = None,
    ) -> pd.DataFrame:
        """Central interval(s) from the same quantiles (``coverage=0.8`` or ``level=[80, 95]``)."""
        return self.predict_distribution(market, location).interval(coverage, level)

    def p_up(self, market: MarketData, location: pd.Series | None = None) -> pd.Series:
        return self.predict_distribution(market, location).p_up()

    def p_move(
        self, market: MarketData, threshold: float, location: pd.Series | None = None
    ) -> pd.Series:
        return self.predict_distribution(market, location).p_move(threshold)

    def update(self, z: Any, quantiles: Any = QUANTILES) -> None:
        """Add realised out-of-sample scores (adaptive levels move when ``aci_gamma`` is set)."""
        self._check_fitted()
        self.calibrator_.add(z, quantiles)

    # -- artifacts ------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the artifact directory atomically (a failure leaves ``path`` as it was)."""
        self._check_fitted()
        path = Path(path)
        with staged_directory(path) as tmp:
            state = {
                "volatility_model": self.model_.to_dict(),
                "calibrator": self.calibrator_.to_dict(),
            }
            (tmp / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")
            if isinstance(self.model_, LightGBMVol):
                (tmp / NATIVE_FILE).write_text(self.model_.native_text(), encoding="utf-8")
            write_manifest(
                tmp,
                {
                    "format": FORMAT,
                    "model_type": f"distribution:{self.volatility}",
                    "params": self.get_params(),
                    "train_end": self.train_end_,
                    "intraday": bool(self.uses_intraday_),
                },
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> DistributionForecaster:
        """Read a directory written by :meth:`save`, checking every file's sha256 and every value
        read (an :class:`ArtifactError` naming the file, the field and the value otherwise)."""
        path = Path(path)
        file = path / MANIFEST
        manifest = stored_object(_read_json(file), file, "the manifest")
        if manifest.get("format") != FORMAT:
            raise ArtifactError(
                f"{path} has format {manifest.get('format')!r}, expected {FORMAT!r}; "
                "retrain the distribution model"
            )
        for name, digest in stored_object(manifest.get("files"), file, "files").items():
            listed = confine(name, path, f"file {name!r} listed in {file}", root_name="artifact")
            if not listed.is_file() or file_sha256(listed) != digest:
                raise ArtifactError(
                    f"{path / name} is missing or does not match its manifest sha256; restore "
                    "or retrain the distribution model"
                )
        out = cls(**_checked_params(manifest.get("params"), file))
        state_file = path / STATE_FILE
        state = stored_object(_read_json(state_file), state_file, "the state")
        where = str(state_file)
        vol = stored_object(state.get("volatility_model"), where, "volatility_model")
        name = stored_choice(vol.get("name"), where, "volatility_model.name", [out.volatility])
        params = stored_params(
            VOLATILITY_MODELS[name], vol.get("params"), where, "volatility_model.params"
        )
        if params.get("horizon", 1) != out.horizon:
            raise refuse(
                where,
                "volatility_model.params.horizon",
                f"{out.horizon} (the manifest's)",
                params.get("horizon", 1),
            )
        model = make_volatility_model(name, **params)
        model.shape_ = StandardShape.from_dict(vol.get("shape"), where, "volatility_model.shape")
        model._load_state(vol.get("state", {}), where)
        if isinstance(model, LightGBMVol):
            model.load_native_file(path / NATIVE_FILE, where)
        out.model_ = model
        out.calibrator_ = ScoreCalibrator.from_dict(state.get("calibrator"), where, "calibrator")
        if out.calibration != "none" and not out.calibrator_.ready:
            raise refuse(
                where, "calibrator.scores", f"at least {MIN_SCORES} scores", out.calibrator_.scores
            )
        train_end = manifest.get("train_end")
        if not isinstance(train_end, str):
            raise refuse(file, "train_end", "the time of the last candle fitted on", train_end)
        out.train_end_ = train_end
        intraday = manifest.get("intraday", False)  # absent: saved before 4h candles were kept
        if not isinstance(intraday, bool):
            raise refuse(file, "intraday", "true or false", intraday)
        out.uses_intraday_ = intraday
        return out


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(
            f"{file} is not a saved distribution model: {exc}; restore or retrain it"
        ) from None


def _checked_params(params: Any, file: Path) -> dict[str, Any]:
    """The distribution's constructor parameters in ``file``, each checked."""
    params = stored_params(DistributionForecaster, params, file)
    stored_choice(params.get("volatility"), file, "params.volatility", list(VOLATILITY_MODELS))
    stored_whole(params.get("horizon"), file, "params.horizon", low=1, high=366)
    stored_choice(params.get("calibration", "conformal"), file, "params.calibration", CALIBRATIONS)
    stored_whole(
        params.get("calibration_window", CONFORMAL_WINDOW),
        file,
        "params.calibration_window",
        low=MIN_SCORES,
    )
    # fractions strictly between 0 and 1 (``aci_gamma`` may be absent: no adaptive steps)
    for name, value in (
        ("calibration_fraction", params.get("calibration_fraction", 0.3)),
        ("aci_gamma", params.get("aci_gamma")),
    ):
        if value is not None:
            stored_number(
                value, file, f"params.{name}", low=0.0, high=1.0, low_open=True, high_open=True
            )
    if params.get("volatility_params") is not None:
        stored_object(params["volatility_params"], file, "params.volatility_params")
    return params
