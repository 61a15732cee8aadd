"""Backtest the stacked ensemble beside each of its bases and naive, on bitcoin and ethereum.

Run: ``.venv/bin/python benchmarks/bench_ensemble.py [--days 365] [--retrain 90] [--metas ridge]``.

For each coin and horizon (1 and 7 days) a walk-forward backtest (``ForecastBacktester``, expanding
window, purge = h) scores the last ``--days`` origins, refitting every ``--retrain`` rows on all
earlier rows. Models: ``ensemble`` (config defaults: LightGBM + LSTM bases, 5 purged inner folds,
one line per ``--metas`` meta-learner), ``lightgbm`` and ``lstm`` alone (config defaults). Naive
(``price[t+h] = price[t]``) is scored on the same origins, and its MAE is printed on every line.
MASE = model MAE / naive MAE; DM is the Diebold-Mariano test of the two error series. Nothing is
tuned on these origins. The ensemble's weights are those of its last refit.
"""

from __future__ import annotations

import argparse
import time

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.data import load_ohlcv
from cryptoforecast.features import build_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", nargs="+", default=["bitcoin", "ethereum"])
    parser.add_argument("--horizons", type=int, nargs="+", default=[1, 7])
    parser.add_argument("--days", type=int, default=365, help="backtest origins (last N days)")
    parser.add_argument("--retrain", type=int, default=90, help="refit every N origins")
    parser.add_argument("--metas", nargs="+", default=["ridge"], help="ridge, lgbm and/or mean")
    args = parser.parse_args()

    started = time.perf_counter()
    print(f"last {args.days} origins, refit every {args.retrain}, expanding window, purge = h")
    print(
        f"{'coin':9} {'h':>2} {'model':16} {'MAE':>9} {'naive MAE':>10} {'MASE':>6} "
        f"{'dir.acc':>7} {'cov80':>6} {'DM p':>6} {'favours':>7} {'fit s':>6}"
    )
    for coin in args.coins:
        candles = load_ohlcv(coin)
        features = build_features(candles)
        for h in args.horizons:
            runs = [
                (f"ensemble[{m}]", trainer_for("ensemble", horizon=h, meta=m)) for m in args.metas
            ]
            runs += [(name, trainer_for(name, horizon=h)) for name in ("lightgbm", "lstm")]
            for label, trainer in runs:
                bt = ForecastBacktester(
                    initial_train_size=730,
                    test_size=30,
                    step_size=30,
                    retrain_frequency=args.retrain,
                    horizon=h,
                    test_origins=args.days,
                )
                bt.run_walk_forward_validation(candles, trainer, features=features)
                agg = bt.calculate_aggregate_metrics()
                mod, nai = agg["model"], agg["naive"]
                cov = mod.get("coverage_80", float("nan"))
                print(
                    f"{coin:9} {h:>2} {label:16} {mod['mae']:>9,.1f} {nai['mae']:>10,.1f} "
                    f"{mod['mase']:>6.3f} {mod['directional_accuracy']:>7.3f} {cov:>6.3f} "
                    f"{agg['dm_pvalue']:>6.3f} {agg['dm_favours']:>7} {bt.fit_seconds_:>6.0f}",
                    flush=True,
                )
                if label.startswith("ensemble"):
                    weights = bt.model_.weights_()  # type: ignore[attr-defined]
                    oof = bt.model_.explain()["out_of_fold"]  # type: ignore[attr-defined]
                    print(
                        f"{'':12} weights {', '.join(f'{k} {v:.3f}' for k, v in weights.items())}; "
                        f"intercept {bt.model_.intercept_:+.5f}; inner OOF MAE (log ret) "  # type: ignore[attr-defined]
                        + ", ".join(f"{k} {v:.4f}" for k, v in oof["base_mae"].items())
                        + f", naive {oof['naive_mae']:.4f}",
                        flush=True,
                    )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
