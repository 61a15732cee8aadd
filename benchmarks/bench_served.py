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

The live guard's aims (fixed before the run): no cell with served MASE above 1.01; every
episode where a model, as served without the guard, had a 30-origin stretch of model-served
origins with MAE at least 20% above naive's is caught: the guard tripped within 14 origins of
the episode's first stretch's first origin, or had already demoted that model; and false alarms
on forecasts that match naive (the technical fallback at every origin, and naive plus a tiny
noise) at most the stated rate (one per ``ARL0`` origins), counted by running the same guard
over them. ``--out DIR`` writes each cell's rows as CSV (``<coin>_h<h>.csv``).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.evaluation.guard import ARL0, guard_walk
from cryptoforecast.replay.served import backtest_served, guard_lines, served_table

COINS = tuple(a.id for a in snapshot_assets())
#: the aims' stretch: origins, MAE ratio to naive, and the delay allowed
STRETCH, RATIO, DELAY = 30, 1.20, 14


def losing_episodes(res: pd.DataFrame) -> list[int]:
    """Positions of the first origin of each episode of 30-origin stretches, all served by a
    model as served without the guard, whose MAE is >= 1.2 x naive's (overlapping stretches
    of one episode count once)."""
    served = res["unguarded_served"] if "unguarded_served" in res else res["served"]
    pred = res["unguarded_y_pred"] if "unguarded_y_pred" in res else res["y_pred"]
    model = (served != "fallback").to_numpy()
    e_m = (res["y_true"] - pred).abs().to_numpy()
    e_n = (res["y_true"] - res["naive"]).abs().to_numpy()
    starts, last = [], -(10**9)
    for i in range(len(res) - STRETCH + 1):
        w = slice(i, i + STRETCH)
        if model[w].all() and e_m[w].mean() >= RATIO * e_n[w].mean():
            if i > last + 1:
                starts.append(i)
            last = i
    return starts


def caught(res: pd.DataFrame, first: int) -> bool:
    """The guard tripped within DELAY origins of ``first`` or had demoted the model by then."""
    if "guard_tripped" not in res:
        return False
    tripped = res["guard_tripped"].to_numpy(dtype=bool)
    demoted = res["guard_demoted"].to_numpy(dtype=bool)
    return bool(tripped[first : first + DELAY + 1].any() or demoted[first])


def false_alarms(res: pd.DataFrame, h: int) -> tuple[int, int]:
    """Trips of the guard over the technical fallback at every origin and over naive plus a
    tiny noise (0.1% of naive's mean absolute error), and the origins each ran over."""
    rng = np.random.default_rng(0)
    e_n = (res["y_true"] - res["naive"]).abs().mean()
    near = res["naive"] + rng.normal(0.0, 1e-3 * float(e_n), len(res))
    n = 0
    for pred in (res["fallback"], near):
        walk = guard_walk(res["origin"], res["y_true"], pred, res["naive"], h)
        n += len(walk.trips)
    return n, 2 * len(res)


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
    parser.add_argument("--out", default=None, help="directory for each cell's rows (CSV)")
    parser.add_argument("--config", default=None, help="a config file (default: the defaults)")
    args = parser.parse_args()
    print(
        f"served backtest: {len(args.coins)} coins x h={args.horizons}, last {args.days} origins, "
        f"retrain every {args.retrain}, candidates {args.candidates}"
        + (f", config {args.config}" if args.config else ""),
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
                config=args.config,
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
            res = bt.results
            row["episodes"] = losing_episodes(res)
            row["caught"] = [caught(res, i) for i in row["episodes"]]
            row["false_alarms"], row["null_origins"] = false_alarms(res, h)
            if args.out:
                Path(args.out).mkdir(parents=True, exist_ok=True)
                keep = [c for c in res.columns if not str(c).endswith("distribution")]
                res[keep].to_csv(Path(args.out) / f"{coin}_h{h}.csv", index=False)
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
            eps = ", ".join(
                f"{res['origin'].iloc[i]:%Y-%m-%d} {'caught' if c else 'MISSED'}"
                for i, c in zip(row["episodes"], row["caught"], strict=True)
            )
            print(
                f"{'':12s}      losing episodes (30 origins, MAE >= 1.2x naive, unguarded): "
                f"{len(row['episodes'])}{' (' + eps + ')' if eps else ''}; false alarms on "
                f"the fallback and naive+noise: {row['false_alarms']} over "
                f"{row['null_origins']} origins",
                flush=True,
            )
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
    high = [c for c in cells if c["served_mase"] > 1.01]
    print(
        f"aim no cell with served MASE above 1.01: {'met' if not high else 'NOT met'} "
        f"({len(high)} cells above)"
    )
    episodes = sum(len(c["episodes"]) for c in cells)
    missed = sum(len(c["caught"]) - sum(c["caught"]) for c in cells)
    print(
        f"aim every losing episode caught within {DELAY} origins: "
        f"{'met' if not missed else 'NOT met'} ({episodes - missed} of {episodes} caught)"
    )
    alarms = sum(c["false_alarms"] for c in cells)
    null = sum(c["null_origins"] for c in cells)
    allowed = null / ARL0
    print(
        f"aim false alarms at most the stated rate (1 per {ARL0} origins): "
        f"{alarms} over {null} origins, {allowed:.2f} expected at the stated rate "
        f"({'met' if alarms <= max(1.0, math.ceil(allowed)) else 'NOT met'})"
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
