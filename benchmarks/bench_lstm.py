"""LSTM on bitcoin daily: fit time, one-window predict latency, and walk-forward MASE vs naive.

Run: ``.venv/bin/python benchmarks/bench_lstm.py [--threads N] [--days 365] [--retrain 90]``.

1. Fit ``LSTMForecaster`` (config defaults: lookback 30, 32 hidden units, up to 40 epochs with
   early stopping on the validation tail) on every complete bitcoin daily row, h=1.
2. Predict one window (the last 30 rows): median of 200 calls.
3. Walk-forward backtest (``ForecastBacktester``) over the last ``--days`` origins at h=1 and h=7,
   refitting every ``--retrain`` rows on all earlier rows (purged by h); MASE is the model's price
   MAE over naive's (``price[t+h] = price[t]``) on the same origins, and naive's MAE is printed
   beside it. Nothing is tuned on these origins.
"""

from __future__ import annotations

import argparse
import statistics
import time

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.data import load_ohlcv
from cryptoforecast.features import build_features, make_target
from cryptoforecast.models.lstm_model import LSTMForecaster
from cryptoforecast.models.lstm_network import default_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: sized)")
    parser.add_argument("--days", type=int, default=365, help="backtest origins (last N days)")
    parser.add_argument("--retrain", type=int, default=90, help="refit every N origins")
    parser.add_argument("--horizons", type=int, nargs="+", default=[1, 7])
    args = parser.parse_args()

    candles = load_ohlcv("bitcoin")
    features = build_features(candles)
    target = make_target(candles, 1)
    complete = features.notna().all(axis=1) & target.notna()
    X, y = features.loc[complete], target.loc[complete]
    threads = args.threads if args.threads is not None else default_threads(32)
    print(
        f"bitcoin daily: {len(X)} rows x {X.shape[1]} features ({X.index[0]:%Y-%m-%d} .. "
        f"{X.index[-1]:%Y-%m-%d}); torch threads {threads}"
    )

    tic = time.perf_counter()
    model = LSTMForecaster(horizon=1, num_threads=args.threads).fit(X, y)
    fit_s = time.perf_counter() - tic
    print(
        f"fit (lookback 30, h=1): {fit_s:.1f} s, {len(model.history_)} epochs run, best epoch "
        f"{model.best_epoch_}, {model.n_train_} fitting rows + {model.calibrator_.n} tail origins"
    )

    window = X.iloc[-model.lookback :]
    model.predict(window)
    times = []
    for _ in range(200):
        tic = time.perf_counter()
        model.predict(window)
        times.append(time.perf_counter() - tic)
    print(
        f"predict one window: median {statistics.median(times) * 1e3:.2f} ms, "
        f"p95 {sorted(times)[189] * 1e3:.2f} ms"
    )

    params = {} if args.threads is None else {"num_threads": args.threads}
    for h in args.horizons:
        bt = ForecastBacktester(
            initial_train_size=730,
            test_size=30,
            step_size=30,
            retrain_frequency=args.retrain,
            horizon=h,
            test_origins=args.days,
        )
        tic = time.perf_counter()
        bt.run_walk_forward_validation(
            candles, trainer_for("lstm", horizon=h, **params), features=features
        )
        agg = bt.calculate_aggregate_metrics()
        model_m, naive_m = agg["model"], agg["naive"]
        print(
            f"h={h}: {agg['n_forecasts']} origins {agg['start'][:10]}..{agg['end'][:10]}, "
            f"{agg['n_refits']} refits, {time.perf_counter() - tic:.0f} s | "
            f"LSTM MAE {model_m['mae']:,.0f}  naive MAE {naive_m['mae']:,.0f}  "
            f"MASE {model_m['mase']:.3f} | directional {model_m['directional_accuracy']:.3f} | "
            f"DM p={agg['dm_pvalue']:.3f} favours {agg['dm_favours']}"
        )


if __name__ == "__main__":
    main()
