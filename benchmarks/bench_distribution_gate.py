"""What the distribution gate would have served, year by year, beside garch_ref.

Run: ``.venv/bin/python benchmarks/bench_distribution_gate.py [--years 2021,...,2025]
[--horizons 1,7] [--coins bitcoin,...] [--processes 2] [--json out.json]``.

The protocol (fixed before the run, see ``benchmarks/README.md``, "What the distribution gate
serves, per year"):

* coin-years as in the per-year evidence: the snapshot coins with at least 500 daily returns
  before 1 January of the year; every origin of the year whose ``h``-day target lies inside the
  snapshot;
* every gate candidate (``garch_t``, ``har_rv`` on 4h candles, ``ewma_t``, ``lightgbm_vol`` on
  4h candles, all with their parametric shape, and the ``combination`` of those four with
  weights from past CRPS only) and the baselines (``garch_ref``, ``ewma_t``, the 30-day
  Gaussian) are walked with the one engine (:func:`walk_distribution`, candles up to the origin
  only, refit every 30 origins, location 0) from 1 January of the year before the coin's first
  scored year to the end of the data;
* for year Y, the gate (:func:`~cryptoforecast.training.distribution_gate.decide_distributions`
  with the default ``promotion_gate`` settings) decides per coin on the validation origins of
  the 365 days before 1 January of Y whose targets are known by then, the candidates' CRPS
  against garch_ref's on the origins every one of them scored; the chosen candidate serves the
  whole of Y, garch_ref when none passes (or when fewer than 60 validation origins exist). The
  service decides again at every retraining; once a year is the coarser version of that rule;
* every figure sits beside garch_ref's; "significantly worse" is the one-sided HAC DM p-value
  of the served CRPS above garch_ref's, Holm-corrected over the served coin-years of that
  horizon, below 0.05.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.backtest import walk_combination
from cryptoforecast.backtest.distribution_walk import DistributionWalk, walk_distribution
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.scoring import dm_crps
from cryptoforecast.models.distribution import COMBINATION_LEVELS, MarketData
from cryptoforecast.training.distribution_gate import decide_distributions
from cryptoforecast.training.gate import holm_adjust

YEARS = (2021, 2022, 2023, 2024, 2025)
HORIZONS = (1, 7)
MIN_RETURNS = 500
RETRAIN = 30
VALIDATION_DAYS = 365
MIN_VALIDATION = 60
REFERENCE = "garch_ref"
BASELINES = ("garch_ref", "ewma_t", "rolling_gaussian")
#: the gate's single-model candidates: name -> (scale model, reads 4h candles)
CANDIDATES: dict[str, tuple[str, bool]] = {
    "garch_t": ("garch_t", False),
    "har_rv": ("har_rv", True),
    "ewma_t": ("ewma_t", False),
    "lightgbm_vol": ("lightgbm_vol", True),
}
GATE = (*CANDIDATES, "combination")
#: every column scored, once each (ewma_t is a baseline and a candidate)
SCORED = tuple(dict.fromkeys((*BASELINES, *GATE)))
#: fixed before any run (as in bench_distribution.py), never tuned on the years scored
PARAMS: dict[str, dict[str, Any]] = {"lightgbm_vol": {"n_estimators": 100, "n_folds": 2}}


def eligible(daily: pd.DataFrame, year: int) -> bool:
    start = pd.Timestamp(f"{year}-01-01", tz="UTC")
    return int((daily.index < start).sum()) - 1 >= MIN_RETURNS


def _frame(coin: str, h: int, name: str, walk: DistributionWalk, y: pd.Series) -> pd.DataFrame:
    q = walk.quantiles
    origins = q.index
    yo = y.reindex(origins).to_numpy()
    scored = np.isfinite(walk.crps.to_numpy())
    hit = (yo >= q[0.1].to_numpy()) & (yo <= q[0.9].to_numpy())
    return pd.DataFrame(
        {
            "coin": coin,
            "horizon": h,
            "origin": origins,
            "candidate": name,
            "crps": walk.crps.to_numpy(),
            "hit80": np.where(scored, hit, np.nan),
        }
    )


def walk_coin(coin: str, h: int, first_year: int) -> pd.DataFrame:
    """Per-origin CRPS and 80% hits of every baseline and gate candidate for ``coin``."""
    daily, intraday = load_ohlcv(coin), load_ohlcv(coin, interval="4h")
    y = np.log(daily["close"].shift(-h) / daily["close"])
    idx = daily.index
    start = pd.Timestamp(f"{first_year - 1}-01-01", tz="UTC")
    origins = idx[(idx >= start) & y.notna().to_numpy()]
    walks: dict[str, DistributionWalk] = {}
    for name in dict.fromkeys((*BASELINES, *CANDIDATES)):
        model, uses_4h = CANDIDATES.get(name, (name, False))
        walks[name] = walk_distribution(
            MarketData(daily, intraday if uses_4h else None),
            origins,
            y,
            model,
            h,
            retrain_frequency=RETRAIN,
            calibration="none",
            quantiles=COMBINATION_LEVELS,
            volatility_params=PARAMS.get(model),
            wait_for_history=True,
        )
    walks["combination"] = walk_combination({c: walks[c] for c in CANDIDATES}, y, h)
    return pd.concat([_frame(coin, h, n, w, y) for n, w in walks.items()], ignore_index=True)


def _task(args: tuple[str, int, list[int]]) -> pd.DataFrame:
    coin, h, years = args
    daily = load_ohlcv(coin)
    first = next((yr for yr in years if eligible(daily, yr)), None)
    if first is None:
        return pd.DataFrame()
    tic = time.perf_counter()
    out = walk_coin(coin, h, first)
    print(f"  {coin:12s} h={h:<2d} from {first - 1}: {time.perf_counter() - tic:6.1f}s", flush=True)
    return out


def gate_year(scores: pd.DataFrame, coin: str, h: int, year: int) -> tuple[str, str]:
    """What the gate serves for ``coin`` in ``year`` (decided on the year before) and why."""
    end = pd.Timestamp(f"{year}-01-01", tz="UTC")
    val = scores[
        (scores["coin"] == coin)
        & (scores["horizon"] == h)
        & (scores["origin"] >= end - pd.Timedelta(days=VALIDATION_DAYS))
        & (scores["origin"] <= end - pd.Timedelta(days=h))
    ]
    crps = val.pivot(index="origin", columns="candidate", values="crps")
    crps = crps[list(dict.fromkeys((REFERENCE, *GATE)))].dropna()
    if len(crps) < MIN_VALIDATION:
        return REFERENCE, f"{len(crps)} validation origins (< {MIN_VALIDATION})"
    gate = load_config().promotion_gate
    decisions = decide_distributions(
        {c: crps[c].to_numpy() for c in GATE}, crps[REFERENCE].to_numpy(), h, gate
    )
    chosen = next((d.candidate for d in decisions.values() if d.promote), None)
    if chosen is None:
        return REFERENCE, "no candidate passed"
    d = decisions[chosen]
    return chosen, f"skill {d.crps_skill_pct:+.2f}%, Holm p {d.dm_pvalue_holm:.3f}"


def served_scores(scores: pd.DataFrame, years: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-origin served CRPS beside garch_ref's, and the choice per coin-year."""
    rows, choices = [], []
    for (coin, h), grp in scores.groupby(["coin", "horizon"]):
        daily_years = sorted(set(grp["origin"].dt.year))
        for year in years:
            if year not in daily_years or not eligible(load_ohlcv(coin), year):
                continue
            chosen, why = gate_year(scores, str(coin), int(h), year)
            choices.append(
                {"coin": coin, "horizon": int(h), "year": year, "served": chosen, "why": why}
            )
            in_year = grp[grp["origin"].dt.year == year]
            wide = in_year.pivot(index="origin", columns="candidate", values="crps")
            hits = in_year.pivot(index="origin", columns="candidate", values="hit80")
            wide = wide[list(SCORED)].dropna()
            for origin, r in wide.iterrows():
                rows.append(
                    {
                        "coin": coin,
                        "horizon": int(h),
                        "year": year,
                        "origin": origin,
                        "served": float(r[chosen]),
                        "hit80_served": float(hits.at[origin, chosen]),
                        **{c: float(r[c]) for c in SCORED},
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(choices)


def skill(x: pd.Series, base: pd.Series) -> float:
    return 100.0 * (1.0 - float(x.mean()) / float(base.mean()))


def report(served: pd.DataFrame, choices: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"pooled": [], "coin_years": []}
    cols = ["served", *GATE, "ewma_t", "rolling_gaussian"]
    for h, hgrp in served.groupby("horizon"):
        print(f"\nh={h}: pooled CRPS skill (%) against garch_ref (positive: better)")
        print(f"{'year':<6}{'n':>6} " + "".join(f"{c:>14}" for c in cols) + f"{'cov80':>8}")
        for year, grp in hgrp.groupby("year"):
            vals = {c: skill(grp[c], grp[REFERENCE]) for c in cols}
            cov = float(grp["hit80_served"].mean())
            print(
                f"{year:<6}{len(grp):>6} "
                + "".join(f"{vals[c]:>+14.2f}" for c in cols)
                + f"{100 * cov:>7.1f}%"
            )
            out["pooled"].append({"horizon": int(h), "year": int(year), "n": len(grp), **vals})
        rows = []
        for (year, coin), grp in hgrp.groupby(["year", "coin"]):
            d = dm_crps(grp["served"].to_numpy(), grp[REFERENCE].to_numpy(), int(h))
            p_worse = (
                float("nan")
                if not np.isfinite(d.pvalue)
                else float(d.pvalue / 2 if d.statistic > 0 else 1 - d.pvalue / 2)
            )
            choice = choices[
                (choices["coin"] == coin) & (choices["horizon"] == h) & (choices["year"] == year)
            ].iloc[0]
            rows.append(
                {
                    "horizon": int(h),
                    "year": int(year),
                    "coin": coin,
                    "served": choice["served"],
                    "why": choice["why"],
                    "skill": skill(grp["served"], grp[REFERENCE]),
                    "p_worse": p_worse,
                }
            )
        table = pd.DataFrame(rows)
        pvals = {
            f"{r.year}/{r.coin}": r.p_worse for r in table.itertuples() if np.isfinite(r.p_worse)
        }
        holm = holm_adjust(pvals, len(pvals)) if pvals else {}
        table["p_worse_holm"] = [holm.get(f"{r.year}/{r.coin}", np.nan) for r in table.itertuples()]
        print(f"\nh={h}: per coin-year, what the gate served (decided on the year before)")
        print(f"{'year':<6}{'coin':<14}{'served':<14}{'skill %':>9}{'Holm p worse':>14}  why")
        for r in table.itertuples():
            print(
                f"{r.year:<6}{r.coin:<14}{r.served:<14}{r.skill:>+9.2f}{r.p_worse_holm:>14.3f}"
                f"  {r.why}"
            )
        print(f"\nh={h}: coins where the served distribution beat garch_ref, per year")
        for year, grp in table.groupby("year"):
            better = int((grp["skill"] > 0).sum())
            worse = int((grp["p_worse_holm"] < 0.05).sum())
            print(f"  {year}: {better} of {len(grp)} better; {worse} significantly worse (Holm)")
        out["coin_years"].extend(table.to_dict("records"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--years", default=",".join(map(str, YEARS)))
    parser.add_argument("--horizons", default=",".join(map(str, HORIZONS)))
    parser.add_argument("--coins", default=None)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--scores",
        default=None,
        help="CSV of the per-origin scores: read if it exists, else written",
    )
    args = parser.parse_args()
    years = [int(y) for y in args.years.split(",")]
    horizons = [int(h) for h in args.horizons.split(",")]
    coins = args.coins.split(",") if args.coins else [a.id for a in snapshot_assets()]
    load = os.getloadavg()[0]
    print(f"load average at start {load:.2f}; {len(coins)} coins, years {years}, h {horizons}")
    tic = time.perf_counter()
    if args.scores and os.path.exists(args.scores):
        scores = pd.read_csv(args.scores, parse_dates=["origin"])
        print(f"per-origin scores read from {args.scores}")
    else:
        tasks = [(c, h, years) for h in horizons for c in coins]
        with ProcessPoolExecutor(max_workers=args.processes) as pool:
            parts = list(pool.map(_task, tasks))
        scores = pd.concat([p for p in parts if not p.empty], ignore_index=True)
        if args.scores:
            scores.to_csv(args.scores, index=False)
    served, choices = served_scores(scores, years)
    out = report(served, choices)
    print(f"\nwall time {time.perf_counter() - tic:.0f}s with {args.processes} processes")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
