"""Aggregate a backtest's results frame: every metric for the model and for naive, side by side.

``summarise_results(results, horizon)`` is what
:meth:`ForecastBacktester.calculate_aggregate_metrics` returns. Naive (``price[t+h] =
price[t]``) is scored on exactly the same origins, so each model figure has its baseline beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.evaluation import metrics as m
from cryptoforecast.evaluation.stats import diebold_mariano
from cryptoforecast.exceptions import DataError

__all__ = ["REQUIRED_COLUMNS", "periods_per_year", "point_metrics", "summarise_results"]

REQUIRED_COLUMNS = ("origin", "fold", "close_at_origin", "y_true", "y_pred", "naive")


def periods_per_year(origins: pd.Series | pd.Index) -> float:
    """Bars per 365-day year from the median spacing of ``origins`` (365 for daily bars)."""
    ts = pd.DatetimeIndex(origins)
    if len(ts) < 2:
        return 365.0
    step = pd.Series(ts).diff().dropna().median()
    days = step / pd.Timedelta(days=1)
    return 365.0 / days if days > 0 else 365.0


def point_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    origin: np.ndarray,
    *,
    naive: np.ndarray,
) -> dict[str, float]:
    """Price and log-return accuracy of one forecast (model or naive) on the given origins."""
    da = m.directional_test(y_true, y_pred, origin)
    true_lr, pred_lr = np.log(y_true / origin), np.log(y_pred / origin)
    return {
        "mae": m.mae(y_true, y_pred),
        "rmse": m.rmse(y_true, y_pred),
        "mape": m.mape(y_true, y_pred),
        "smape": m.smape(y_true, y_pred),
        "mase": m.mase(y_true, y_pred, naive),
        "r2_price": m.r2(y_true, y_pred),
        "r2_logret": m.r2(true_lr, pred_lr),
        "directional_accuracy": da.accuracy,
        "directional_pvalue": da.pvalue,
        "directional_n": float(da.n_decided),
        "directional_ties": float(da.n_ties),
        "theils_u2": m.theils_u2(y_true, y_pred, origin),
        # what "always up" would score on direction: the base rate directional accuracy must beat
        "up_share": float(np.mean(y_true > origin)),
    }


def _trading(
    pred_lr: np.ndarray, next_ret: np.ndarray, fee_bps: float, ppy: float
) -> dict[str, float]:
    out: dict[str, float] = {}
    for strategy in ("long_flat", "long_short"):
        for key, value in m.trading_metrics(pred_lr, next_ret, strategy, fee_bps, ppy).items():  # type: ignore[arg-type]
            out[f"{strategy}_{key}"] = value
    return out


def summarise_results(
    results: pd.DataFrame,
    horizon: int,
    coverages: Sequence[float] = (0.8, 0.95),
    fee_bps: float = 10.0,
) -> dict[str, Any]:
    """Metrics of a backtest ``results`` frame (one row per forecast, prices), beside naive's.

    Returns a dict with:
        ``model`` / ``naive``: ``mae rmse mape smape mase r2_price r2_logret directional_accuracy
        directional_pvalue theils_u2``, interval ``coverage_<c>`` and ``winkler_<c>`` (model),
        and trading metrics ``long_flat_*`` / ``long_short_*`` (forecast-sign rules, fee
        ``fee_bps``, held one bar, annualised on 365 days);
        ``buy_and_hold``: the same trading metrics for always-long;
        ``improvement_vs_naive_pct`` (MAE), ``dm_statistic``, ``dm_pvalue``, ``dm_reason``,
        ``n_forecasts``, ``n_refits``, ``horizon``, ``model_type``, ``start``, ``end``, and
        ``per_fold`` (a DataFrame: fold, start, end, n, mae, naive_mae, mase, mape, naive_mape,
        directional_accuracy).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in results.columns]
    if missing:
        raise DataError(
            f"results lack columns {missing}; pass the frame run_walk_forward_validation returned"
        )
    if results.empty:
        raise DataError("results are empty; the backtest produced no forecasts")
    res = results.sort_values("origin", kind="stable")
    y_true = res["y_true"].to_numpy(dtype="float64")
    y_pred = res["y_pred"].to_numpy(dtype="float64")
    naive = res["naive"].to_numpy(dtype="float64")
    origin = res["close_at_origin"].to_numpy(dtype="float64")
    for name, arr in (("y_true", y_true), ("y_pred", y_pred), ("naive", naive)):
        if not np.isfinite(arr).all():
            raise DataError(
                f"results column {name!r} has NaN/infinite values; every origin needs one"
            )

    model = point_metrics(y_true, y_pred, origin, naive=naive)
    base = point_metrics(y_true, naive, origin, naive=naive)
    for c in coverages:
        tag = f"{round(c * 100):d}"
        lo, hi = f"lower_{tag}", f"upper_{tag}"
        if lo in res.columns and hi in res.columns:
            lower, upper = res[lo].to_numpy(dtype="float64"), res[hi].to_numpy(dtype="float64")
            model[f"coverage_{tag}"] = m.interval_coverage(y_true, lower, upper)
            model[f"winkler_{tag}"] = m.winkler_score(y_true, lower, upper, c)
    ppy = periods_per_year(res["origin"])
    bh: dict[str, float] = {}
    if "next_return" in res.columns:
        next_ret = res["next_return"].to_numpy(dtype="float64")
        model.update(_trading(np.log(y_pred / origin), next_ret, fee_bps, ppy))
        base.update(_trading(np.zeros_like(origin), next_ret, fee_bps, ppy))
        bh = m.trading_metrics(np.ones_like(origin), next_ret, "buy_and_hold", fee_bps, ppy)

    dm = diebold_mariano(y_true - y_pred, y_true - naive, horizon)
    mae_naive = base["mae"]
    per_fold = _per_fold(res)
    return {
        "model_type": str(res["model_type"].iloc[0]) if "model_type" in res.columns else "model",
        "horizon": int(horizon),
        "model": model,
        "naive": base,
        "buy_and_hold": bh,
        "improvement_vs_naive_pct": (1.0 - model["mae"] / mae_naive) * 100.0
        if mae_naive > 0
        else math.nan,
        "dm_statistic": dm.statistic,
        "dm_pvalue": dm.pvalue,
        "dm_reason": dm.reason,
        "dm_favours": "model"
        if dm.mean_loss_difference < 0
        else "naive"
        if dm.mean_loss_difference > 0
        else "neither",
        "n_forecasts": len(res),
        "n_refits": int(res["refit_origin"].nunique())
        if "refit_origin" in res.columns
        else int(res["fold"].nunique()),
        "start": str(res["origin"].iloc[0]),
        "end": str(res["origin"].iloc[-1]),
        "fee_bps": float(fee_bps),
        "periods_per_year": float(ppy),
        "per_fold": per_fold,
    }


def _per_fold(res: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for fold, g in res.groupby("fold", sort=True):
        t = g["y_true"].to_numpy(dtype="float64")
        p = g["y_pred"].to_numpy(dtype="float64")
        nv = g["naive"].to_numpy(dtype="float64")
        o = g["close_at_origin"].to_numpy(dtype="float64")
        rows.append(
            {
                "fold": int(fold),  # type: ignore[call-overload]
                "start": g["origin"].iloc[0],
                "end": g["origin"].iloc[-1],
                "n": len(g),
                "mae": m.mae(t, p),
                "naive_mae": m.mae(t, nv),
                "mase": m.mase(t, p, nv),
                "mape": m.mape(t, p),
                "naive_mape": m.mape(t, nv),
                "directional_accuracy": m.directional_accuracy(t, p, o),
            }
        )
    return pd.DataFrame(rows)
