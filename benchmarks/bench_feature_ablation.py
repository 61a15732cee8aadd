"""Feature ablation by group: walk-forward validation MASE of LightGBM with all features vs without
each group, per horizon, on the 8 snapshot coins, in three yearly sub-periods before the period the
served replays score.

Run: ``.venv/bin/python benchmarks/bench_feature_ablation.py [--horizons 1 3 7 14] [--coins ...]
[--processes 2]``.

Protocol (fixed before the first full run; the figures in ``benchmarks/README.md``, "Feature
ablation", are what that run printed):

- **Period.** Forecast origins from 2019-10-01 to 2022-09-30 only, cut into three sub-periods of
  a year each (2019-10-01..2020-09-30, 2020-10-01..2021-09-30, 2021-10-01..2022-09-30). The
  candles are cut at 2022-09-30, so no fit, feature or target reads a candle of the period the
  served replays score (from 2022-10-01); an origin counts only when its h-day target close is on
  or before 2022-09-30.
- **Coins**: the 8 snapshot coins. A coin contributes to a sub-period when its walk scores at least
  half of that year's origins (its features need 399 rows of warm-up and the first fit at least
  60 labelled rows, the pipeline's floor): bitcoin, ethereum, binancecoin, cardano and litecoin
  in all three; dogecoin from the second; solana and avalanche-2 in the third.
- **Horizons**: the configured set, 1, 3, 7 and 14 days.
- **Model**: the default point model, LightGBM with the config's default hyperparameters, built
  by the training pipeline's own factory (``training.fit.new_forecaster``; no top-k selection),
  nothing tuned.
- **Walk**: the one walk-forward engine (``backtest.engine.ForecastBacktester``, as the training
  validation uses it): one walk per coin, horizon and feature set over all of the coin's origins
  in the period, refit every 30 origins, purge = h, an expanding window (each fit sees every
  labelled row before its origin; the snapshot starts in March 2018, so the first year's fits
  cannot have the 730 rows of the pipeline's sliding validation window).
- **Feature sets**: all the features training builds (``build_features`` on the coin's candles:
  the technical, price, volume and calendar groups), and that set without each group in turn
  (``features.catalog.FEATURE_GROUPS``). The ``cross_asset`` group is not ablated: training builds
  features without a market, so it is not among the default point model's features (printed as
  n/a).
- **Score**: per coin and sub-period, MASE = the model's MAE over the naive (random-walk) MAE on
  the same origins (``evaluation.metrics.mase``; naive = 1.0, printed beside every figure); per
  sub-period, the mean MASE over the contributing coins, with the group and without it.
- **Verdict**: a group lowers validation MASE in a sub-period when the coins' mean MASE with it is
  below the mean without it. A group that does so in fewer than 2 of the 3 sub-periods leaves
  that horizon's default feature set ("drop"); otherwise it stays ("keep").
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.backtest import ForecastBacktester
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation import mase
from cryptoforecast.features import FEATURE_GROUPS, build_features
from cryptoforecast.features.catalog import GROUPS
from cryptoforecast.training.fit import model_params, new_forecaster
from cryptoforecast.training.validation import MIN_TRAIN_ROWS

COINS = tuple(a.id for a in snapshot_assets())
YEARS: tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...] = tuple(
    (
        f"{y}-{(y + 1) % 100:02d}",
        pd.Timestamp(f"{y}-10-01", tz="UTC"),
        pd.Timestamp(f"{y + 1}-09-30", tz="UTC"),
    )
    for y in (2019, 2020, 2021)
)
END = YEARS[-1][2]
ALL = "all"
#: the share of a year's origins a coin's walk must score for the coin to count in that year
MIN_YEAR_SHARE = 0.5


@dataclass(frozen=True)
class Cell:
    """One coin and horizon: the per-year MASE of every feature set and the origins scored."""

    coin: str
    horizon: int
    mase: dict[str, dict[str, float]]  # feature set -> year -> MASE
    origins: dict[str, int]  # year -> origins scored
    seconds: float


def walk_cell(coin: str, horizon: int, groups: tuple[str, ...]) -> Cell:
    """Walk every feature set of one coin and horizon over the period; MASE per year."""
    t0 = time.perf_counter()
    settings = load_config()
    params = model_params(settings, "lightgbm")
    seed = settings.training.seed
    candles = load_ohlcv(coin, source="snapshot", end=END)
    feats = build_features(candles)
    complete = feats.notna().all(axis=1)
    rows = feats.index[complete.to_numpy()]
    # origins are complete rows whose h-day target is on or before END
    labelled = rows[: len(rows) - horizon]
    first_allowed = labelled[MIN_TRAIN_ROWS + horizon - 1]  # the first fit has >= 60 rows
    start = max(YEARS[0][1], first_allowed)
    n_origins = int((labelled >= start).sum())
    out: dict[str, dict[str, float]] = {}
    origins: dict[str, int] = {}
    for name in (ALL, *groups):
        drop = FEATURE_GROUPS[name] if name != ALL else []
        X = feats.drop(columns=[c for c in drop if c in feats.columns])
        backtester = ForecastBacktester(
            initial_train_size=MIN_TRAIN_ROWS,
            test_size=settings.training.validation_retrain_every,
            step_size=settings.training.validation_retrain_every,
            retrain_frequency=settings.training.validation_retrain_every,
            horizon=horizon,
            window="expanding",
            interval_coverage=tuple(settings.backtest.interval_coverage),
            test_origins=n_origins,
        )
        new_model = partial(new_forecaster, "lightgbm", horizon, params, seed, None)
        res = backtester.run_walk_forward_validation(candles, features=X, new_model=new_model)
        origin = pd.to_datetime(res["origin"], utc=True)
        per_year: dict[str, float] = {}
        for label, lo, hi in YEARS:
            inside = ((origin >= lo) & (origin <= hi)).to_numpy()
            # the year's possible origins: every day whose h-day target is on or before END
            possible = (min(hi, END - pd.Timedelta(days=horizon)) - lo).days + 1
            share = inside.sum() / possible
            origins[label] = int(inside.sum())
            if inside.sum() == 0 or share < MIN_YEAR_SHARE:
                per_year[label] = np.nan
                continue
            sub = res.loc[inside]
            per_year[label] = mase(sub["y_true"], sub["y_pred"], sub["naive"])
        out[name] = per_year
    return Cell(coin, horizon, out, origins, time.perf_counter() - t0)


def _run(args: tuple[str, int, tuple[str, ...]]) -> Cell:
    return walk_cell(*args)


def report(cells: list[Cell], horizons: list[int], groups: tuple[str, ...]) -> None:
    """Print, per horizon and group, per-year mean MASE with and without, wins and verdict."""
    labels = [y[0] for y in YEARS]
    print("\ncoins per year (origins scored):")
    for h in horizons:
        for label in labels:
            who = [
                f"{c.coin}({c.origins[label]})"
                for c in cells
                if c.horizon == h and not np.isnan(c.mase[ALL][label])
            ]
            print(f"  h={h:<2d} {label}: {len(who)} coins: {' '.join(who)}")
    print("\nmean MASE over the coins, naive = 1.000 (with -> without the group), per year:")
    head = "  ".join(f"{label:>15s}" for label in labels)
    print(f"{'h':>2s}  {'group':12s}  {head}  wins  verdict")
    verdicts: dict[int, list[str]] = {}
    for h in horizons:
        hc = [c for c in cells if c.horizon == h]

        def mean(name: str, label: str, hc: list[Cell] = hc) -> float:
            vals = [c.mase[name][label] for c in hc if not np.isnan(c.mase[ALL][label])]
            return float(np.mean(vals)) if vals else float("nan")

        print(
            f"{h:2d}  {'(all)':12s}  "
            + "  ".join(f"{mean(ALL, label):15.3f}" for label in labels)
            + "     -  naive 1.000"
        )
        for g in (*groups, "cross_asset"):
            if g not in groups:
                print(f"{h:2d}  {g:12s}  {'n/a: not in the default model features':>49s}")
                continue
            cells_txt, wins = [], 0
            for label in labels:
                with_g, without = mean(ALL, label), mean(g, label)
                wins += int(with_g < without)
                cells_txt.append(f"{with_g:.3f} -> {without:.3f}")
            verdict = "keep" if wins >= 2 else "drop"
            if verdict == "drop":
                verdicts.setdefault(h, []).append(g)
            print(f"{h:2d}  {g:12s}  " + "  ".join(f"{t:>15s}" for t in cells_txt), end="")
            print(f"  {wins}/3   {verdict}")
    print("\nper coin, MASE with all features (naive = 1.000):")
    for h in horizons:
        for c in sorted((c for c in cells if c.horizon == h), key=lambda c: c.coin):
            vals = "  ".join(
                f"{label} {c.mase[ALL][label]:.3f}"
                for label in labels
                if not np.isnan(c.mase[ALL][label])
            )
            print(f"  h={h:<2d} {c.coin:12s} {vals}")
    print("\nexclude_groups (groups that leave each horizon's default set):")
    print("  " + ", ".join(f"{h}: {sorted(verdicts.get(h, []))}" for h in horizons))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--coins", nargs="+", default=list(COINS))
    parser.add_argument("--horizons", nargs="+", type=int, default=[1, 3, 7, 14])
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    groups = tuple(g for g in GROUPS if g != "cross_asset")
    tasks = [(c, h, groups) for h in args.horizons for c in args.coins]
    print(
        f"feature ablation: LightGBM defaults, {len(args.coins)} coins x h={args.horizons}, "
        f"origins {YEARS[0][1]:%Y-%m-%d}..{END:%Y-%m-%d} in 3 yearly sub-periods, refit every 30, "
        f"expanding window, purge = h; {args.processes} processes",
        flush=True,
    )
    t0 = time.perf_counter()
    cells: list[Cell] = []
    with ProcessPoolExecutor(max_workers=args.processes) as pool:
        for cell in pool.map(_run, tasks):
            cells.append(cell)
            print(
                f"  {cell.coin:12s} h={cell.horizon:<2d} done in {cell.seconds:6.1f} s "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    report(cells, args.horizons, groups)
    print(
        f"\nwall time {time.perf_counter() - t0:.0f} s; load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    main()
