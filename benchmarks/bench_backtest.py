"""Walk-forward backtest overhead: LightGBM, bitcoin daily, h=1, the last 3 years of daily origins.

Run: ``.venv/bin/python benchmarks/bench_backtest.py [--days 1095] [--retrain 30] [--repeat 1]``.

Times ``ForecastBacktester.run_walk_forward_validation`` end to end (features, target, splits,
every fit and predict, assembling the results) and, inside it, the time spent in the model's own
``fit`` and ``predict``/``predict_interval`` calls. The ratio wall / (fit + predict) is the
backtester's overhead (aim <= 1.3). LightGBM uses the config hyperparameters; the accuracy line
prints the model's MAE beside naive's on the same origins.
"""

from __future__ import annotations

import argparse
import inspect
import time

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.models import model_class


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=1095, help="daily origins to backtest")
    parser.add_argument("--retrain", type=int, default=30, help="refit every N origins")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the fastest is reported")
    args = parser.parse_args()

    settings = load_config()
    accepted = inspect.signature(model_class("lightgbm").__init__).parameters
    params = {k: v for k, v in settings.model_params("lightgbm").items() if k in accepted}
    candles = load_ohlcv("bitcoin")
    best = None
    for _ in range(args.repeat):
        bt = ForecastBacktester(
            initial_train_size=settings.backtest.initial_train_size,
            test_size=30,
            step_size=30,
            retrain_frequency=args.retrain,
            horizon=1,
            test_origins=args.days,
        )
        tic = time.perf_counter()
        bt.run_walk_forward_validation(candles, trainer_for("lightgbm", 1, **params))
        wall = time.perf_counter() - tic
        if best is None or wall < best[0]:
            best = (wall, bt)
    assert best is not None
    wall, bt = best
    agg = bt.calculate_aggregate_metrics()
    inside = bt.fit_seconds_ + bt.predict_seconds_
    print(
        f"origins {agg['n_forecasts']} ({agg['start'][:10]} .. {agg['end'][:10]}), "
        f"refits {bt.n_refits_}, "
        f"lightgbm {params}"
    )
    print(
        f"wall {wall:.2f}s  fit {bt.fit_seconds_:.2f}s  predict {bt.predict_seconds_:.2f}s  "
        f"fit+predict {inside:.2f}s  overhead ratio {wall / inside:.3f}"
    )
    print(
        f"MAE {agg['model']['mae']:,.2f} vs naive {agg['naive']['mae']:,.2f}  "
        f"MASE {agg['model']['mase']:.3f}  DM p {agg['dm_pvalue']:.3f}"
    )


if __name__ == "__main__":
    main()
