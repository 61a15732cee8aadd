"""Interval calibration in the walk-forward backtest: static (split) conformal vs adaptive (ACI).

Run: ``.venv/bin/python benchmarks/bench_intervals.py [--days 730] [--gamma 0.01]
[--assets bitcoin ethereum] [--horizons 1 7] [--models drift lightgbm]``.

For each asset, horizon and model it backtests the last ``--days`` daily origins twice on the
same refits (every 30 origins, expanding window, ``backtest.initial_train_size`` rows at least):
once with each model's static conformal band, once with ACI (``interval_method="aci"``). It prints
the empirical coverage of the 80% and 95% bands and their mean width in log-return units, and the
MASE of the point forecast (naive = 1) so the band sits beside the naive forecast's accuracy.
LightGBM runs with small settings (100 trees, learning rate 0.05) to keep the run short.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.features import build_features

SMALL: dict[str, dict[str, Any]] = {
    "drift": {},
    "naive": {},
    "lightgbm": {"n_estimators": 100, "learning_rate": 0.05},
}


def _width(res: Any, tag: str) -> float:
    lo = np.log(res[f"lower_{tag}"] / res["close_at_origin"])
    hi = np.log(res[f"upper_{tag}"] / res["close_at_origin"])
    return float(np.nanmean(hi - lo))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=730, help="daily origins to backtest")
    parser.add_argument("--gamma", type=float, default=0.01, help="ACI step size")
    parser.add_argument("--assets", nargs="+", default=["bitcoin", "ethereum"])
    parser.add_argument("--horizons", nargs="+", type=int, default=[1, 7])
    parser.add_argument("--models", nargs="+", default=["drift", "lightgbm"])
    args = parser.parse_args()

    settings = load_config()
    print(
        f"last {args.days} daily origins, refit every 30, ACI gamma {args.gamma}; "
        "coverage (mean width in log return) per nominal level"
    )
    header = (
        f"{'asset':<9} {'h':>2} {'model':<9} {'MASE':>6} | "
        f"{'split 80%':>17} {'ACI 80%':>17} | {'split 95%':>17} {'ACI 95%':>17} | secs"
    )
    print(header)
    print("-" * len(header))
    for asset in args.assets:
        candles = load_ohlcv(asset)
        features = build_features(candles)
        for h in args.horizons:
            for name in args.models:
                tic = time.perf_counter()
                cells: dict[str, str] = {}
                mase = float("nan")
                for method in ("split", "aci"):
                    bt = ForecastBacktester(
                        initial_train_size=settings.backtest.initial_train_size,
                        retrain_frequency=30,
                        horizon=h,
                        test_origins=args.days,
                        interval_method=method,  # type: ignore[arg-type]
                        aci_gamma=args.gamma,
                    )
                    res = bt.run_walk_forward_validation(
                        candles, trainer_for(name, h, **SMALL.get(name, {})), features=features
                    )
                    agg = bt.calculate_aggregate_metrics()
                    mase = agg["model"]["mase"]
                    for tag in ("80", "95"):
                        cov = agg["model"][f"coverage_{tag}"]
                        cells[f"{method}_{tag}"] = f"{cov:6.1%} ({_width(res, tag):.3f})"
                secs = time.perf_counter() - tic
                print(
                    f"{asset:<9} {h:>2} {name:<9} {mase:6.3f} | "
                    f"{cells['split_80']:>17} {cells['aci_80']:>17} | "
                    f"{cells['split_95']:>17} {cells['aci_95']:>17} | {secs:.0f}"
                )


if __name__ == "__main__":
    main()
