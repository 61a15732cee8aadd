"""The arithmetic of stacking, as plain functions: purged inner folds and non-negative ridge.

:class:`~cryptoforecast.models.ensemble.EnsembleForecaster` produces its out-of-fold base
forecasts on :func:`inner_folds` and, with ``meta="ridge"``, combines them with
:func:`nonneg_ridge`.
"""

from __future__ import annotations

import numpy as np

from cryptoforecast.models.splits import walk_forward_splits

__all__ = ["RIDGE_ALPHA", "inner_folds", "nonneg_ridge"]

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
