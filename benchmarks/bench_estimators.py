"""Estimators fitted once and fast: the profile-likelihood Student-t fit against scipy's MLE, and
``walk_distribution`` time per scale model.

Run: ``.venv/bin/python benchmarks/bench_estimators.py [--coin BTCUSDT] [--days 730]
[--horizon 7] [--repeat 5]``. With ``--before-src DIR`` (the ``src`` of an older checkout, e.g.
``git worktree add /tmp/x <commit>``) it also times the walks in a child process on that code,
so before and after print side by side on the same machine.

Part 1: for each snapshot coin, the standardised residuals ``ewma_t`` fits its shape to
(next-day log return over the EWMA scale); per fit, the time of ``fit_student_t`` (profile) and
``fit_student_t(method="mle")`` (scipy's Nelder-Mead) and the mean log-likelihood gap (profile
minus MLE, per observation; positive: the profile fit is higher).
Part 2: ``walk_distribution`` over the last ``--days`` origins of one coin, refitted every 30,
for garch_ref (no calibration, as a baseline), garch_t, har_rv and ewma_t (conformal).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

WALKS = (("garch_ref", "none"), ("garch_t", "conformal"), ("har_rv", "conformal"))
WALKS += (("ewma_t", "conformal"),)


def fits(repeat: int) -> None:
    from cryptoforecast.assets import snapshot_assets
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.models.distribution.shapes import fit_student_t
    from cryptoforecast.models.distribution.volatility import ewma_variance

    print(f"{'coin':6s} {'n':>5s} {'profile ms':>10s} {'mle ms':>8s} {'speed-up':>8s} "
          f"{'df':>7s} {'df mle':>7s} {'loglik gap':>11s}")  # fmt: skip
    ratios = []
    for asset in snapshot_assets():
        close = load_ohlcv(asset.symbol)["close"].astype("float64")
        r = pd.Series(np.log(close / close.shift(1)))
        z = (r.shift(-1) / np.sqrt(ewma_variance(r))).dropna().to_numpy()
        timed = {}
        for method in ("profile", "mle"):
            tic = time.perf_counter()
            for _ in range(repeat):
                out = fit_student_t(z, method=method)  # type: ignore[arg-type]
            timed[method] = ((time.perf_counter() - tic) / repeat * 1e3, out)
        (fast_ms, (df, sc)), (mle_ms, (df_m, sc_m)) = timed["profile"], timed["mle"]
        gap = np.mean(stats.t.logpdf(z, df, scale=sc)) - np.mean(
            stats.t.logpdf(z, df_m, scale=sc_m)
        )
        ratios.append(mle_ms / fast_ms)
        print(f"{asset.symbol:6s} {z.size:5d} {fast_ms:10.2f} {mle_ms:8.2f} {mle_ms / fast_ms:7.1f}x "
              f"{df:7.3f} {df_m:7.3f} {gap:11.2e}")  # fmt: skip
    print(f"speed-up: median {np.median(ratios):.1f}x, min {min(ratios):.1f}x")


def walks(coin: str, days: int, horizon: int) -> dict[str, float]:
    from cryptoforecast.backtest.distribution_walk import walk_distribution
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.models.distribution import MarketData

    daily = load_ohlcv(coin)
    market = MarketData(daily, load_ohlcv(coin, interval="4h"))
    y = np.log(daily["close"].shift(-horizon) / daily["close"])
    origins = daily.index[-days - horizon : -horizon]
    out = {}
    for name, calibration in WALKS:
        tic = time.perf_counter()
        walk = walk_distribution(
            MarketData(market.daily, market.intraday), origins, y, name, horizon,
            retrain_frequency=30, calibration=calibration,
        )  # fmt: skip
        out[name] = time.perf_counter() - tic
        out[f"{name}:crps"] = float(walk.crps.mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--coin", default="BTCUSDT")
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--horizon", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before-src", default=None)
    ap.add_argument("--walks-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.walks_only:
        print(json.dumps(walks(args.coin, args.days, args.horizon)))
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores, shared)")
    fits(args.repeat)
    after = walks(args.coin, args.days, args.horizon)
    before = None
    if args.before_src:
        cmd = [sys.executable, __file__, "--walks-only", "--coin", args.coin]
        cmd += ["--days", str(args.days), "--horizon", str(args.horizon)]
        env = {**os.environ, "PYTHONPATH": args.before_src}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        before = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nwalk_distribution {args.coin} h={args.horizon}, {args.days} origins, refit every 30")
    print(f"{'model':10s} {'before s':>9s} {'after s':>8s} {'mean CRPS before':>17s} "
          f"{'mean CRPS after':>16s}")  # fmt: skip
    for name, _ in WALKS:
        b = before or {}
        print(f"{name:10s} {b.get(name, float('nan')):9.2f} {after[name]:8.2f} "
              f"{b.get(name + ':crps', float('nan')):17.8f} {after[name + ':crps']:16.8f}")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
