"""Predictive distributions walk-forward: CRPS skill against rolling_gaussian, ewma_t and garch_t.

Run: ``.venv/bin/python benchmarks/bench_distribution.py [--coins BTCUSDT,...] [--horizons 1,7,14]
[--days 1095] [--retrain 30] [--models har_rv,...] [--daily-only] [--json out.json]``; ``--summarise a.json b.json`` prints the aims
over saved runs (so coins can run in parallel processes).

For each embedded coin and horizon, every origin of the last ``--days`` days with a known target
gets a distribution from candles up to it (volatility models refitted every ``--retrain``
origins, calibration scores only from earlier origins' realised errors). Location is 0 (the
naive forecast: the point models do not beat it). Models are scored with normalised conformal
calibration; the baselines with their own parametric shapes, on the same origins. Nothing is
tuned: every hyperparameter is the default, fixed before any run. ``lightgbm_vol`` reads the
realised measures only (not the 93 features) to keep 900 refits affordable on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.backtest.distribution_walk import level_tag, walk_distribution
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.distribution_summary import summarise_distribution
from cryptoforecast.models.distribution import BASELINES, MarketData

MODELS = ("rolling_gaussian", "ewma_t", "garch_t", "har_rv", "lightgbm_vol")
PARAMS: dict[str, dict[str, Any]] = {"lightgbm_vol": {"n_estimators": 100, "n_folds": 2}}


def run_one(
    symbol: str,
    h: int,
    days: int,
    retrain: int,
    models: tuple[str, ...] = MODELS,
    daily_only: bool = False,
) -> list[dict[str, Any]]:
    daily = load_ohlcv(symbol)
    intraday = None if daily_only else load_ohlcv(symbol, interval="4h")
    market = MarketData(daily, intraday)
    y = np.log(daily["close"].shift(-h) / daily["close"])
    origins = daily.index[-days - h : -h]
    base = {
        b: walk_distribution(
            market, origins, y, b, h, retrain_frequency=retrain, calibration="none"
        )
        for b in BASELINES
    }
    rows = []
    for name in models:
        walk = walk_distribution(
            market,
            origins,
            y,
            name,
            h,
            retrain_frequency=retrain,
            volatility_params=PARAMS.get(name),
        )
        frame = pd.DataFrame({f"q_{level_tag(c)}": walk.quantiles[c] for c in walk.quantiles})
        frame["y_true_logret"] = y.loc[origins]
        frame["p_up"], frame["pit"], frame["crps"] = walk.p_up, walk.pit, walk.crps
        for b, bw in base.items():
            frame[f"crps_{b}"] = bw.crps
        frame["vol_ref"] = base["rolling_gaussian"].sigma
        block = summarise_distribution(frame.reset_index(drop=True), h, name)
        rg = base["rolling_gaussian"].quantiles
        ok = frame[["crps"] + [f"crps_{b}" for b in BASELINES]].notna().all(axis=1)
        from cryptoforecast.evaluation.metrics import winkler_score

        yy = frame["y_true_logret"][ok]
        block["winkler_80_rolling_gaussian"] = winkler_score(yy, rg[0.1][ok], rg[0.9][ok], 0.8)
        block.update(
            coin=symbol,
            horizon=h,
            fit_seconds=walk.fit_seconds,
            predict_seconds=walk.predict_seconds,
            n_refits=walk.n_refits,
            baseline_coverage={
                b: float(((yy >= bw.quantiles[0.1][ok]) & (yy <= bw.quantiles[0.9][ok])).mean())
                for b, bw in base.items()
            },
        )
        rows.append(block)
        s = block["skill"]
        t = block["coverage_by_vol_tercile"]
        print(
            f"{symbol:9s} h={h:<2d} {name:16s} n={block['n']:4d} crps={block['crps']:.5f} "
            + " ".join(
                f"vs_{b}={s[b]['crps_skill_pct']:+5.1f}%(p={s[b]['dm_pvalue']:.3f})"
                for b in BASELINES
            )
            + f" cov80={block['coverage']['80']:.3f} cov95={block['coverage']['95']:.3f}"
            + " terc80="
            + "/".join(f"{t[k]['80']:.2f}" for k in ("low", "mid", "high"))
            + " terc95="
            + "/".join(f"{t[k]['95']:.2f}" for k in ("low", "mid", "high"))
            + f" wink80_vs_rg={100 * (1 - block['winkler_80'] / block['winkler_80_rolling_gaussian']):+5.1f}%"
            + f" fit={walk.fit_seconds:.1f}s pred={walk.predict_seconds:.1f}s",
            flush=True,
        )
    return rows


def summarise(rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows)
    print("\nAims per model and horizon (coins where the figure holds / coins run):")
    for (name, h), grp in frame.groupby(["model", "horizon"]):
        n = len(grp)
        beat = sum(r["ewma_t"]["crps_skill_pct"] > 0 for r in grp["skill"])
        sig = sum(
            r["ewma_t"]["crps_skill_pct"] > 0 and r["ewma_t"]["dm_pvalue"] < 0.10
            for r in grp["skill"]
        )
        cov = sum(
            abs(c["80"] - 0.8) <= 0.02 and abs(c["95"] - 0.95) <= 0.02 for c in grp["coverage"]
        )
        terc = sum(
            all(abs(v["80"] - 0.8) <= 0.05 and abs(v["95"] - 0.95) <= 0.05 for v in t.values())
            for t in grp["coverage_by_vol_tercile"]
        )
        wink = np.mean(1 - grp["winkler_80"] / grp["winkler_80_rolling_gaussian"]) * 100
        skills = {b: np.mean([r[b]["crps_skill_pct"] for r in grp["skill"]]) for b in BASELINES}
        print(
            f"{name:16s} h={h:<2d} beats ewma_t {beat}/{n} (DM p<0.10: {sig}/{n}); "
            f"cov80&95 within 2pt {cov}/{n}; every tercile within 5pt {terc}/{n}; "
            f"mean Winkler80 vs rolling_gaussian {wink:+.1f}%; mean CRPS skill "
            + ", ".join(f"{b} {v:+.2f}%" for b, v in skills.items())
            + f"; fit {grp['fit_seconds'].sum():.0f}s predict {grp['predict_seconds'].sum():.0f}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--coins", default=",".join(a.binance_symbol for a in snapshot_assets()))
    parser.add_argument("--horizons", default="1,7,14")
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--retrain", type=int, default=30)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument(
        "--daily-only",
        action="store_true",
        help="realised measures from daily candles only (what training and serving read)",
    )
    parser.add_argument("--json", default=None, help="also write the per-run blocks here")
    parser.add_argument("--summarise", nargs="*", default=None, help="JSON files to summarise")
    args = parser.parse_args()
    if args.summarise:
        rows = [r for f in args.summarise for r in json.loads(Path(f).read_text())]
        summarise(rows)
        return
    rows = []
    tic = time.perf_counter()
    for symbol in args.coins.split(","):
        for h in (int(x) for x in args.horizons.split(",")):
            rows.extend(
                run_one(
                    symbol,
                    h,
                    args.days,
                    args.retrain,
                    tuple(args.models.split(",")),
                    args.daily_only,
                )
            )
    print(f"wall {time.perf_counter() - tic:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, default=str))
    summarise(rows)


if __name__ == "__main__":
    main()
