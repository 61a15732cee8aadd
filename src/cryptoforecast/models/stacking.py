"""The arithmetic of stacking, as plain functions: purged inner folds and non-negative ridge.

:class:`~cryptoforecast.models.ensemble.EnsembleForecaster` produces its out-of-fold base
forecasts on :func:`inner_folds` and, with ``meta="ridge"``, combines them with
:func:`nonneg_ridge`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.models.splits import walk_forward_splits

__all__ = ["RIDGE_ALPHA", "inner_folds", "nonneg_ridge", "oof_summary", "train_meta_lgbm"]

#: ridge penalty relative to the mean squared (centred) OOF forecast; small, only to keep the
#: weights stable when base forecasts are nearly collinear
RIDGE_ALPHA = 1e-3


def inner_folds(n: int, k: int, gap: int) -> list[tuple[int, int, int]]:
    """Expanding-window folds over ``n`` rows: ``[(train_stop, test_start, test_stop), ...]``.

    The rows are cut into ``k + 1`` blocks; fold ``j`` tests block ``j + 1`` and trains on rows
    ``[0, test_start - gap)``; the first block absorbs the remainder. Cut by the one splitter,
    :func:`~cryptoforecast.models.splits.walk_forward_splits`, with a purge of ``gap + 1`` rows
    (every row here has a known target, so the last block runs to row ``n - 1``).
    """
    block = n // (k + 1)
    splits = walk_forward_splits(
        n,
        horizon=gap,
        initial_train_size=n - k * block - gap,
        test_size=block,
        purge=gap + 1,
        last_origin=n - 1,
    )
    return [(int(s.train[-1]) + 1, int(s.test[0]), int(s.test[-1]) + 1) for s in splits]


def nonneg_ridge(
    P: np.ndarray, y: np.ndarray, alpha: float = RIDGE_ALPHA
) -> tuple[np.ndarray, float]:
    """``(weights >= 0, intercept)`` minimising ``|y - b - P w|^2 + a |w|^2`` (``a`` relative)."""
    from scipy.optimize import nnls

    mean_p, mean_y = P.mean(axis=0), float(y.mean())
    Pc, yc = P - mean_p, y - mean_y
    scale = float((Pc**2).sum(axis=0).mean()) if len(Pc) else 0.0
    penalty = np.sqrt(alpha * max(scale, 1e-12)) * np.eye(P.shape[1])
    A = np.vstack([Pc, penalty])
    b = np.concatenate([yc, np.zeros(P.shape[1])])
    w, _ = nnls(A, b)
    return w, mean_y - float(mean_p @ w)


def train_meta_lgbm(
    P: pd.DataFrame, y: pd.Series, regime: pd.DataFrame, params: dict[str, Any]
) -> Any:
    """The ``meta="lgbm"`` learner: a small LightGBM on the OOF forecasts and regime columns."""
    lgb = import_optional("lightgbm", "EnsembleForecaster(meta='lgbm')")
    data = np.hstack([P.to_numpy(), regime.to_numpy(dtype="float64")])
    train = lgb.Dataset(data, label=y.to_numpy(), params={"verbosity": -1})
    booster = lgb.train(params, train, num_boost_round=100)
    return lgb.Booster(model_str=booster.model_to_string())


def oof_summary(P: pd.DataFrame, y: pd.Series, scored: pd.DataFrame) -> dict[str, Any]:
    """The out-of-fold errors of every base and of the held-out ensemble, beside naive's."""
    yv = y.to_numpy()
    mae = {name: float(np.mean(np.abs(yv - P[name].to_numpy()))) for name in P.columns}
    return {
        "n_oof_rows": int(len(P)),
        "oof_start": str(P.index[0]),
        "oof_end": str(P.index[-1]),
        "base_mae": mae,
        "naive_mae": float(np.mean(np.abs(yv))),
        "ensemble_mae_held_out": float(np.mean(np.abs(scored["y_true"] - scored["ensemble"]))),
        "naive_mae_held_out": float(np.mean(np.abs(scored["y_true"]))),
        "n_held_out_rows": int(len(scored)),
    }
