"""The registry of models the shared contract suite (``test_contract.py``) runs against.

Adding a model to the suite is one line in :data:`CONTRACT_MODELS`: its ``model_type`` mapped to a
factory ``horizon -> unfitted forecaster`` with small, fast hyperparameters. Everything else
(shapes, determinism, NotFittedError, save/load in a new process, intervals, bad inputs, corrupt
artifacts, look-ahead) is checked for every entry.

Models that need a window of past rows (``lookback`` attribute > 1) predict
``len(X) - lookback + 1`` rows, indexed by the last row of each window; the suite allows for it.

The data is a synthetic market (``synthetic_market``): a random walk with autocorrelated returns
and changing volatility, and causal features named like ``cryptoforecast.features.build_features``
(so the technical-analysis rule finds its columns) plus a few others. It is small and fast;
``test_tree_and_technical.py`` and ``test_conformal.py`` run the models on real bitcoin features.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cryptoforecast.models import make_forecaster
from cryptoforecast.models.base import Forecaster

ModelFactory = Callable[[int], Forecaster]

CONTRACT_MODELS: dict[str, ModelFactory] = {
    "naive": lambda h: make_forecaster("naive", horizon=h),
    "drift": lambda h: make_forecaster("drift", horizon=h),
    "technical": lambda h: make_forecaster("technical", horizon=h),
    "lightgbm": lambda h: make_forecaster(
        "lightgbm", horizon=h, n_estimators=60, learning_rate=0.1, early_stopping_rounds=10
    ),
    "xgboost": lambda h: make_forecaster(
        "xgboost", horizon=h, n_estimators=60, learning_rate=0.1, early_stopping_rounds=10
    ),
    "lstm": lambda h: make_forecaster("lstm", horizon=h, lookback=10, epochs=3, hidden_size=8),
    "ensemble": lambda h: make_forecaster(
        "ensemble",
        horizon=h,
        base_models=["lightgbm", "drift"],
        inner_folds=3,
        base_params={
            "lightgbm": {"n_estimators": 40, "learning_rate": 0.1, "early_stopping_rounds": 5}
        },
    ),
    "shrunk": lambda h: make_forecaster(
        "shrunk",
        horizon=h,
        base="lightgbm",
        inner_folds=2,
        base_params={"n_estimators": 40, "learning_rate": 0.1, "early_stopping_rounds": 5},
    ),
}


def expected_rows(model: Forecaster, n_rows: int) -> int:
    """How many rows ``predict`` returns for ``n_rows`` input rows."""
    return n_rows - (int(getattr(model, "lookback", 1) or 1) - 1)


def synthetic_market(
    n: int = 700, horizon: int = 1, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """``(X, y)``: causal features and the ``horizon``-step log-return target, warm-up dropped.

    The last ``horizon`` rows have a NaN target (as ``make_target`` gives).
    """
    rng = np.random.default_rng(seed)
    warm = 60
    total = n + warm
    vol = 0.03 * np.exp(0.4 * np.sin(np.arange(total) / 90.0))
    ret = np.empty(total)
    prev = 0.0
    for t in range(total):
        prev = 0.15 * prev + vol[t] * rng.standard_normal()
        ret[t] = prev
    index = pd.date_range("2020-01-01", periods=total, freq="D", tz="UTC", name="timestamp")
    close = pd.Series(100.0 * np.exp(np.cumsum(ret)), index=index)
    r1 = np.log(close).diff()
    gain = r1.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    loss = (-r1).clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    macd = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    signal = macd.ewm(span=9, adjust=False).mean()
    X = pd.DataFrame(
        {
            "ret_log_1": r1,
            "ret_log_7": np.log(close).diff(7),
            "vol_30": r1.rolling(30).std(),
            "rsi_14": 100 * gain / (gain + loss),
            "macd_hist_12_26_9": (macd - signal) / close,
            "close_sma_50": close / close.rolling(50).mean() - 1,
            "dow_sin": np.sin(2 * np.pi * index.day_of_week / 7),
            "noise": rng.standard_normal(total),
        },
        index=index,
    )
    y = (np.log(close).shift(-horizon) - np.log(close)).rename("target")
    return X.iloc[warm:], y.iloc[warm:]


def fit_on_known(model: Forecaster, X: pd.DataFrame, y: pd.Series) -> Forecaster:
    """Fit on the rows whose target is known (what a training pipeline passes)."""
    known = y.notna().to_numpy()
    return model.fit(X.loc[known], y.loc[known])
