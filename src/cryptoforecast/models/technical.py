"""The technical-analysis fallback: a transparent rule, no training, never fails on valid features.

The rule reads four columns of :func:`cryptoforecast.features.build_features` by name and turns
three classic signals into a direction score in ``[-1, 1]``:

* **RSI** (contrarian): ``clip((50 - RSI) / 20, -1, 1)``: +1 when oversold (RSI <= 30), -1 when
  overbought (RSI >= 70), 0 at 50.
* **MACD histogram** (momentum): ``tanh(hist / vol)``, the histogram (already divided by close)
  measured in daily standard deviations.
* **Moving-average trend** (momentum): ``tanh((close / SMA - 1) / (vol * sqrt(window)))``, the
  distance of close above its moving average in units of the move a random walk makes over the
  average's window.

``score = weighted mean of the three`` and the forecast is ``strength * score * vol * sqrt(h)``: a
fraction of one ``h``-day standard deviation, so it is scaled by recent volatility and horizon and
stays small (``strength=0.1`` by default).

It learns nothing, so its residuals on the rows it is fitted on are already out of sample for it:
``fit`` keeps them for conformal intervals. With fewer than ``min_residuals`` known targets (a
very short history, or ``fit(X)`` with no ``y``) the intervals are volatility-based instead: the
residual quantiles of a normal with the latest ``vol * sqrt(h)`` as standard deviation.

Use it with no target at all::

    model = TechnicalAnalysisForecaster.from_candles(ohlcv, horizon=7)   # features built for you
    model = TechnicalAnalysisForecaster(horizon=7).fit(features)          # or from features
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ArtifactError, ConfigError, FeatureError
from cryptoforecast.features import build_features, make_target
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.checks import check_feature_frame, frame_hash
from cryptoforecast.models.intervals import ConformalCalibrator

__all__ = ["TechnicalAnalysisForecaster"]

#: number of pseudo-residuals used for volatility-based intervals (normal quantiles)
_N_VOL_RESIDUALS = 399


class TechnicalAnalysisForecaster(BaseForecaster):
    """RSI + MACD + moving-average trend rule, scaled by volatility and horizon.

    Args:
        horizon: forecast horizon in candles.
        strength: forecast magnitude at ``|score| = 1``, in ``h``-candle standard deviations.
        rsi_weight, macd_weight, trend_weight: weights of the three signals (>= 0, not all 0).
        rsi_column: RSI on a 0..100 scale.
        macd_column: MACD histogram divided by close.
        trend_column: ``close / SMA - 1`` of a moving average of ``trend_window`` candles.
        trend_window: the window of ``trend_column`` (scales its distance).
        volatility_column: standard deviation of 1-candle log returns (not annualised).
        min_residuals: fewest known targets for conformal intervals; below, volatility-based.
        random_state: unused (the rule is deterministic); kept for the common signature.
    """

    model_type: ClassVar[str] = "technical"

    def __init__(
        self,
        horizon: int = 1,
        strength: float = 0.1,
        rsi_weight: float = 1.0,
        macd_weight: float = 1.0,
        trend_weight: float = 1.0,
        rsi_column: str = "rsi_14",
        macd_column: str = "macd_hist_12_26_9",
        trend_column: str = "close_sma_50",
        trend_window: int = 50,
        volatility_column: str = "vol_30",
        min_residuals: int = 30,
        random_state: int = 42,
    ) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.strength = strength
        self.rsi_weight = rsi_weight
        self.macd_weight = macd_weight
        self.trend_weight = trend_weight
        self.rsi_column = rsi_column
        self.macd_column = macd_column
        self.trend_column = trend_column
        self.trend_window = trend_window
        self.volatility_column = volatility_column
        self.min_residuals = min_residuals

    # -- the rule ---------------------------------------------------------------------------
    @property
    def required_columns(self) -> list[str]:
        """The feature columns the rule reads."""
        return [self.rsi_column, self.macd_column, self.trend_column, self.volatility_column]

    def _check_columns(self, X: pd.DataFrame) -> None:
        missing = [c for c in self.required_columns if c not in X.columns]
        if missing:
            raise FeatureError(
                f"TechnicalAnalysisForecaster needs the feature columns {missing} but the frame "
                f"has {len(X.columns)} columns ({list(map(str, X.columns[:8]))}...). Build the "
                "features "
                "with cryptoforecast.features.build_features, or name the columns to use with "
                "rsi_column=, macd_column=, trend_column=, volatility_column=."
            )

    def _check_params(self) -> np.ndarray:
        weights = np.array([self.rsi_weight, self.macd_weight, self.trend_weight], dtype="float64")
        if not np.all(np.isfinite(weights)) or (weights < 0).any() or weights.sum() <= 0:
            raise ConfigError(
                "rsi_weight, macd_weight and trend_weight must be >= 0 and not all 0, "
                f"got {weights.tolist()}"
            )
        if not math.isfinite(float(self.strength)) or self.strength < 0:
            raise ConfigError(f"strength must be a number >= 0, got {self.strength!r}")
        if not isinstance(self.trend_window, int) or self.trend_window < 1:
            raise ConfigError(
                f"trend_window must be a whole number >= 1, got {self.trend_window!r}"
            )
        return weights / weights.sum()

    def _volatility(self, X: pd.DataFrame) -> np.ndarray:
        vol = X[self.volatility_column].to_numpy(dtype="float64")
        return np.maximum(vol, 1e-12)  # a flat market has no direction to scale

    def signals(self, X: pd.DataFrame) -> pd.DataFrame:
        """The three signals and the combined ``score`` per row, each in ``[-1, 1]``."""
        self._check_columns(X)
        weights = self._check_params()
        vol = self._volatility(X)
        rsi = np.clip((50.0 - X[self.rsi_column].to_numpy(dtype="float64")) / 20.0, -1.0, 1.0)
        macd = np.tanh(X[self.macd_column].to_numpy(dtype="float64") / vol)
        trend = np.tanh(
            X[self.trend_column].to_numpy(dtype="float64") / (vol * math.sqrt(self.trend_window))
        )
        score = weights[0] * rsi + weights[1] * macd + weights[2] * trend
        return pd.DataFrame(
            {"rsi": rsi, "macd": macd, "trend": trend, "score": score}, index=X.index
        )

    # -- BaseForecaster hooks ---------------------------------------------------------------
    def _fit(
        self, X: pd.DataFrame, y: pd.Series, X_val: pd.DataFrame | None, y_val: pd.Series | None
    ) -> None:
        self._check_columns(X)
        self._check_params()
        # too few known targets for conformal residuals: volatility-based ones (module docstring)
        n_known = len(y_val) if X_val is not None and y_val is not None else len(y)
        few = n_known < int(self.min_residuals)
        self._residuals = self._volatility_residuals(X if X_val is None else X_val) if few else None

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        score = self.signals(X)["score"].to_numpy()
        step_vol = self._volatility(X) * math.sqrt(self.horizon)
        return pd.Series(float(self.strength) * score * step_vol, index=X.index, dtype="float64")

    def _volatility_residuals(self, X: pd.DataFrame) -> np.ndarray:
        """Pseudo-residuals whose quantiles are those of N(0, (vol_last * sqrt(h))**2)."""
        from scipy.stats import norm

        sigma = float(self._volatility(X.iloc[[-1]])[0]) * math.sqrt(self.horizon)
        probs = (np.arange(_N_VOL_RESIDUALS) + 0.5) / _N_VOL_RESIDUALS
        return np.asarray(sigma * norm.ppf(probs), dtype="float64")

    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series | None = None,
        X_val: pd.DataFrame | None = None,
        y_val: pd.Series | None = None,
    ) -> Self:
        """Record the feature columns and the residuals for intervals; nothing is learned.

        ``y`` is optional: without it, or with fewer than ``min_residuals`` known targets, the
        intervals are volatility-based. Raises :class:`FeatureError` when a needed column is absent.
        """
        self._check_horizon()
        X = check_feature_frame(X)
        self._check_columns(X)
        self._check_params()
        known = 0
        if y is not None:
            if not isinstance(y, pd.Series):
                raise FeatureError(
                    f"y must be a pandas Series of targets or None, got {type(y).__name__}"
                )
            known = int(
                np.isfinite(y.reindex(X.index).to_numpy(dtype="float64", na_value=np.nan)).sum()
            )
        if known >= 2:
            return super().fit(X, y, X_val, y_val)  # type: ignore[arg-type]
        self.feature_names_ = [str(c) for c in X.columns]
        self.n_features_in_ = len(self.feature_names_)
        self.train_start_ = str(X.index[0])
        self.train_end_ = str(X.index[-1])
        self.n_train_ = int(len(X))
        self.data_hash_ = frame_hash(X)
        self.calibrator_ = ConformalCalibrator.from_residuals(self._volatility_residuals(X))
        return self

    @classmethod
    def from_candles(
        cls, ohlcv: pd.DataFrame, horizon: int = 1, **params: Any
    ) -> TechnicalAnalysisForecaster:
        """Build features from validated candles and fit on every row with complete features.

        Targets known within ``ohlcv`` give conformal intervals; ``predict`` then works on
        ``build_features(ohlcv)`` rows after the warm-up.
        """
        features = build_features(ohlcv)
        complete = features.notna().all(axis=1).to_numpy()
        X = features.loc[complete]
        if X.empty:
            raise FeatureError(
                f"{len(ohlcv)} candles are too few to compute any complete feature row; "
                "load more history"
            )
        y = make_target(ohlcv, horizon).loc[X.index]
        return cls(horizon=horizon, **params).fit(X, y)

    def _save_native(self, directory: Path) -> dict[str, Any]:
        return {"rule": "rsi+macd+trend", "required_columns": self.required_columns}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        """Refuse stored parameters the rule cannot run with, or columns it reads that the
        model's features do not hold."""
        where = directory / MANIFEST
        try:
            self._check_params()
        except ConfigError as exc:
            raise ArtifactError(
                f"{where}: the technical rule's params are out of range ({exc}); the artifact is "
                "corrupt or was written wrong. Restore it from a backup or retrain the model."
            ) from None
        missing = [c for c in self.required_columns if c not in manifest["feature_names"]]
        if missing:
            raise ArtifactError(
                f"{where}: feature_names lacks {missing}, the columns the rule reads; the "
                "artifact is corrupt or was written wrong. Restore it from a backup or retrain."
            )
