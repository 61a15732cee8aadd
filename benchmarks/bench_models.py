"""Tree models and baselines on bitcoin daily: fit time, one-row predict latency, validation MASE.

Run: ``.venv/bin/python benchmarks/bench_models.py [--models lightgbm xgboost technical drift]``.

1. Fit each model (config defaults) on every complete bitcoin daily row at h=1 and time it
   (median of ``--repeats`` fits); tree models also once without early stopping (all 500 trees).
2. Predict one row (the latest): median and p95 of 500 calls, input checks included.
3. Validation at h=1 and h=7, one simple time split: fit on every row before the last 365 days
   (purged by h, so no training target reaches into them), predict those 365 origins once. MASE is
   the model's MAE over naive's MAE on the same origins (naive predicts a log return of 0, i.e.
   the price stays), so naive's MASE is 1 by definition; both MAEs are printed, in log-return
   units. Nothing is tuned on these origins. The LSTM has its own script (``bench_lstm.py``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.metrics import mae, mase
from cryptoforecast.features import build_features, make_target
from cryptoforecast.models import make_forecaster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["lightgbm", "xgboost", "technical", "drift"]
    )
    parser.add_argument("--repeats", type=int, default=3, help="fits timed per model (median)")
    parser.add_argument("--test-days", type=int, default=365)
    args = parser.parse_args()

    candles = load_ohlcv("bitcoin")
    features = build_features(candles)
    complete = features.notna().all(axis=1)
    X_all = features.loc[complete]
    y1 = make_target(candles, 1).loc[complete]
    known = y1.notna().to_numpy()
    X, y = X_all.loc[known], y1.loc[known]
    print(
        f"bitcoin daily: {len(X)} rows x {X.shape[1]} features "
        f"({X.index[0]:%Y-%m-%d} .. {X.index[-1]:%Y-%m-%d}), h=1"
    )
    for name in args.models:
        fits = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            model = make_forecaster(name, horizon=1).fit(X, y)
            fits.append(time.perf_counter() - start)
        last = X_all.iloc[[-1]]
        model.predict(last)
        calls = []
        for _ in range(500):
            start = time.perf_counter()
            model.predict(last)
            calls.append(time.perf_counter() - start)
        calls.sort()
        rounds = getattr(model, "best_iteration_", None)
        if rounds is not None:  # early stopping keeps few trees; also time the full budget
            start = time.perf_counter()
            full = make_forecaster(name, horizon=1, validation_fraction=0.0).fit(X, y)
            print(
                f"{name:9s} fit without early stopping: {time.perf_counter() - start:.3f} s, "
                f"{full.best_iteration_} trees"
            )
        print(
            f"{name:9s} fit {statistics.median(fits):.3f} s (median of {args.repeats}"
            f"{f', {rounds} trees kept' if rounds is not None else ''}) | predict one row: "
            f"median {statistics.median(calls) * 1e3:.2f} ms, "
            f"p95 {calls[int(0.95 * len(calls))] * 1e3:.2f} ms"
        )

    for horizon in (1, 7):
        target = make_target(candles, horizon).loc[complete]
        cut = len(X_all) - args.test_days
        X_fit, y_fit = X_all.iloc[: cut - horizon], target.iloc[: cut - horizon]
        X_test, y_test = X_all.iloc[cut:], target.iloc[cut:]
        ok = y_test.notna().to_numpy()
        X_test, y_test = X_test.loc[ok], y_test.loc[ok]
        naive = np.zeros(len(y_test))
        naive_mae = mae(y_test, naive)
        print(
            f"h={horizon}: fit on {y_fit.notna().sum()} rows to {X_fit.index[-1]:%Y-%m-%d}, "
            f"{len(y_test)} origins {X_test.index[0]:%Y-%m-%d}..{X_test.index[-1]:%Y-%m-%d} | "
            f"naive MAE {naive_mae:.5f} (MASE 1 by definition)"
        )
        for name in args.models:
            fit_ok = y_fit.notna().to_numpy()
            model = make_forecaster(name, horizon=horizon).fit(X_fit.loc[fit_ok], y_fit.loc[fit_ok])
            pred = model.predict(X_test).to_numpy()
            hit = np.mean(np.sign(pred) == np.sign(y_test.to_numpy()))
            cover = {}
            for c in (0.8, 0.95):
                band = model.predict_interval(X_test, c)
                cover[c] = np.mean((y_test >= band["lower"]) & (y_test <= band["upper"]))
            verdict = "beats naive" if mase(y_test, pred, naive) < 1 else "does not beat naive"
            print(
                f"  {name:9s} MAE {mae(y_test, pred):.5f}  naive MAE {naive_mae:.5f}  "
                f"MASE {mase(y_test, pred, naive):.3f} ({verdict}) | sign hit {hit:.3f} | "
                f"static interval coverage 80% {cover[0.8]:.3f}, 95% {cover[0.95]:.3f}"
            )


if __name__ == "__main__":
    main()
