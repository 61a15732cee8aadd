"""Served-forecast backtest: what users would have received, per coin and horizon, beside naive.

Run: ``.venv/bin/python benchmarks/bench_served.py [--coins bitcoin ethereum ...] [--horizons 1 7]
[--days 1095] [--retrain 7] [--candidates lightgbm xgboost lstm ensemble] [--scheduler local]``.

For each (coin, horizon) cell, ``backtest_served`` replays train -> gate -> promote -> serve over
the last ``--days`` origins of the embedded snapshot with the default configuration (validation
over 365 origins, Holm-corrected one-sided DM at 0.05, 2-of-3 stability). Prints one line per
cell: served MASE and DM p (two-sided, vs naive), the technical fallback's MASE and DM p over
every origin, the share of origins each candidate served, how many retrainings promoted a
model, and the wall time. Then the aims: served MASE <= 1.000 and no DM p < 0.05 against the
model on every cell; cells where a model served and how they did; any edge (MASE < 0.98 with
DM p < 0.10) by a shrunk or global candidate.
"""

from __future__ import annotations

import argparse
import time

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.replay.served import backtest_served, guard_lines, served_table

COINS = tuple(a.id for a in snapshot_assets())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--coins", nargs="+", default=list(COINS))
    parser.add_argument("--horizons", nargs="+", type=int, default=[1, 7])
    parser.add_argument("--days", type=int, default=1095, help="origins replayed per cell")
    parser.add_argument("--retrain", type=int, default=7, help="origins between retrainings")
    parser.add_argument(
        "--candidates", nargs="+", default=["lightgbm", "xgboost", "lstm", "ensemble"]
    )
    parser.add_argument("--scheduler", default=None, help="'local' or a Dask address")
    args = parser.parse_args()
    print(
        f"served backtest: {len(args.coins)} coins x h={args.horizons}, last {args.days} origins, "
        f"retrain every {args.retrain}, candidates {args.candidates}",
        flush=True,
    )
    cells = []
    t_all = time.perf_counter()
    for h in args.horizons:
        for coin in args.coins:
            bt = backtest_served(
                coin,
                h,
                days=args.days,
                candidates=tuple(args.candidates),
                retrain_every=args.retrain,
                scheduler=args.scheduler,
            )
            row = served_table(bt)
            promoted = int(bt.retrains["promoted"].fillna(False).astype(bool).sum())
            row["promotions"] = promoted
            row["retrainings"] = int(bt.retrains["retrain_date"].nunique())
            by_model = bt.results[bt.results["served"] != "fallback"]
            row["model_origins"] = len(by_model)
            if len(by_model):
                err_m = (by_model["y_true"] - by_model["y_pred"]).abs().mean()
                err_n = (by_model["y_true"] - by_model["naive"]).abs().mean()
                row["model_cells_mase"] = float(err_m / err_n)
            cells.append(row)
            share = ", ".join(f"{k} {v:.0%}" for k, v in row["served_share"].items() if v)
            extra = (
                f"; on the {row['model_origins']} model-served origins MASE "
                f"{row['model_cells_mase']:.3f}"
                if row["model_origins"]
                else ""
            )
            print(
                f"{coin:12s} h={h}: served MASE {row['served_mase']:.3f} (DM p {row['dm_pvalue']:.3f},"
                f" favours {row['dm_favours']}) | fallback MASE {row['fallback_mase']:.3f} "
                f"(DM p {row['fallback_dm_pvalue']:.3f}) | served: {share} | promotions "
                f"{promoted} of {row['retrainings']} retrainings x {len(args.candidates)} "
                f"candidates{extra} | {row['runtime_s']:.0f} s",
                flush=True,
            )
            for line in guard_lines(bt.metrics["guard"]):
                print(f"{'':12s}      {line}", flush=True)
    print(f"total wall time {time.perf_counter() - t_all:.0f} s", flush=True)
    worse = [c for c in cells if c["dm_favours"] == "naive" and c["dm_pvalue"] < 0.05]
    above = [c for c in cells if c["served_mase"] > 1.0]
    print(
        f"aim served MASE <= 1.000 on every cell: {'met' if not above else 'NOT met'} "
        f"({len(cells) - len(above)} of {len(cells)} cells)"
    )
    print(
        f"aim no cell significantly worse than naive (DM p < 0.05): "
        f"{'met' if not worse else 'NOT met'} ({len(worse)} cells worse)"
    )
    served_cells = [c for c in cells if c["model_origins"]]
    print(f"cells where a model earned production at least once: {len(served_cells)}")
    for name in ("shrunk", "global"):
        if name in args.candidates:
            edge = [
                c
                for c in cells
                if c["served_share"].get(name, 0) > 0
                and c["served_mase"] < 0.98
                and c["dm_pvalue"] < 0.10
            ]
            print(f"{name}: cells with an edge (MASE < 0.98, DM p < 0.10): {len(edge)}")


if __name__ == "__main__":
    main()
