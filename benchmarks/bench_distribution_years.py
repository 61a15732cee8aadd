"""Per-year distribution evidence: every scale model and calibration choice against garch_ref.

Run: ``.venv/bin/python benchmarks/bench_distribution_years.py [--years 2021,...,2025]
[--horizons 1,7,14] [--coins bitcoin,...] [--candidates garch_t|none,...] [--processes 2]
[--json out.json]``.

The protocol (fixed before the run, see ``benchmarks/README.md``, "Per-year distribution
evidence"): for each calendar year, the snapshot coins with at least 500 daily returns before
1 January; every origin of the year whose ``h``-day target lies inside the snapshot gets a
distribution from :func:`walk_distribution` (candles up to the origin only, refit every 30
origins, location 0). One walk per coin and horizon runs from the coin's first eligible year to
the end, so calibration scores carry over from year to year as they would in service; the
scores are then cut by calendar year. Every figure sits beside garch_ref's, ewma_t's and the
30-day Gaussian's. The fallback "selected" for year Y is the candidate with the lowest mean CRPS
pooled over the years before Y (garch_ref for the first year): nothing is chosen on the year it
is scored on.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.backtest.distribution_walk import walk_distribution
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.scoring import dm_crps
from cryptoforecast.models.distribution import MarketData
from cryptoforecast.training.gate import holm_adjust

YEARS = (2021, 2022, 2023, 2024, 2025)
HORIZONS = (1, 7, 14)
MIN_RETURNS = 500
RETRAIN = 30
REFERENCE = "garch_ref|none"
#: the baselines every candidate is scored against (uncalibrated)
REFERENCES = (REFERENCE, "ewma_t|none", "rolling_gaussian|none")
CALIBRATION_CHOICES = ("none", "conformal", "conformal_window", "aci", "blend")
#: scale models: (volatility model, reads 4h candles)
SCALE_MODELS: dict[str, tuple[str, bool]] = {
    "ewma_t": ("ewma_t", False),
    "rolling_gaussian": ("rolling_gaussian", False),
    "garch_t": ("garch_t", False),
    "har_rv": ("har_rv", False),
    "har_rv_4h": ("har_rv", True),
    "lightgbm_vol": ("lightgbm_vol", True),
}
#: fixed before any run (as in bench_distribution.py), never tuned on the years scored
PARAMS: dict[str, dict[str, Any]] = {"lightgbm_vol": {"n_estimators": 100, "n_folds": 2}}
PIT_BINS = 10


@dataclass(frozen=True)
class Candidate:
    """One (scale model, calibration) pair; ``label`` is ``"<model>|<calibration>"``."""

    model: str
    calibration: str

    @property
    def label(self) -> str:
        return f"{self.model}|{self.calibration}"


#: the protocol's list: the reference, the two simple baselines parametric and conformal, and
#: every other scale model with each calibration choice but the all-scores conformal
#: (lightgbm_vol dropped from the default run: its 4 walks doubled the time on 2 shared cores)
PROTOCOL = (
    "garch_ref|none",
    "ewma_t|none",
    "ewma_t|conformal",
    "rolling_gaussian|none",
    "rolling_gaussian|conformal",
    *(
        f"{model}|{cal}"
        for model in ("garch_t", "har_rv", "har_rv_4h")
        for cal in ("none", "conformal_window", "aci", "blend")
    ),
)


def all_candidates() -> list[Candidate]:
    out = [Candidate("garch_ref", "none")]
    for model in SCALE_MODELS:
        out.extend(Candidate(model, cal) for cal in CALIBRATION_CHOICES)
    return out


def parse_candidates(text: str | None) -> list[Candidate]:
    """``None``: the protocol's list; ``"all"``: every model with every calibration; else a
    comma-separated ``model|calibration`` list (the references are always added)."""
    if text == "all":
        return all_candidates()
    if not text:
        text = ",".join(PROTOCOL)
    out = []
    for item in text.split(","):
        model, _, cal = item.partition("|")
        if model != "garch_ref" and model not in SCALE_MODELS:
            raise SystemExit(
                f"unknown scale model {model!r}; use garch_ref or {list(SCALE_MODELS)}"
            )
        out.append(Candidate(model, cal or "none"))
    labels = {c.label for c in out}
    for ref in REFERENCES:  # the references are always scored
        if ref not in labels:
            model, _, cal = ref.partition("|")
            out.insert(0, Candidate(model, cal))
    return out


def eligible(daily: pd.DataFrame, year: int) -> bool:
    """At least ``MIN_RETURNS`` daily returns before 1 January of ``year``."""
    start = pd.Timestamp(f"{year}-01-01", tz="UTC")
    return int((daily.index < start).sum()) - 1 >= MIN_RETURNS


def walk_coin(
    coin: str,
    horizon: int,
    start: pd.Timestamp,
    end: pd.Timestamp,
    candidates: Sequence[Candidate],
    daily: pd.DataFrame | None = None,
    intraday: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-origin scores of every candidate for ``coin`` at ``horizon``: origins from ``start`` to
    ``end`` (inclusive) whose target is inside the data, one walk per candidate.

    Columns: ``coin``, ``horizon``, ``origin``, ``candidate``, ``crps``, ``pit``, ``hit80``,
    ``hit95`` (1.0 when the realised return lies in the central interval, NaN if unscored).
    """
    daily = load_ohlcv(coin) if daily is None else daily
    if intraday is None and any(SCALE_MODELS.get(c.model, ("", False))[1] for c in candidates):
        intraday = load_ohlcv(coin, interval="4h")
    h = int(horizon)
    y = np.log(daily["close"].shift(-h) / daily["close"])
    idx = daily.index
    origins = idx[(idx >= start) & (idx <= end) & y.notna().to_numpy()]
    frames = []
    for cand in candidates:
        name, uses_4h = SCALE_MODELS.get(cand.model, (cand.model, False))
        market = MarketData(daily, intraday if uses_4h else None)
        walk = walk_distribution(
            market,
            origins,
            y,
            name,
            h,
            retrain_frequency=RETRAIN,
            calibration=cand.calibration,  # type: ignore[arg-type]
            volatility_params=PARAMS.get(name),
        )
        q = walk.quantiles
        yo = y.reindex(origins).to_numpy()
        lo80, hi80 = q[0.1].to_numpy(), q[0.9].to_numpy()
        lo95, hi95 = q[0.025].to_numpy(), q[0.975].to_numpy()
        scored = np.isfinite(walk.crps.to_numpy())
        frames.append(
            pd.DataFrame(
                {
                    "coin": coin,
                    "horizon": h,
                    "origin": origins,
                    "candidate": cand.label,
                    "crps": walk.crps.to_numpy(),
                    "pit": walk.pit.to_numpy(),
                    "hit80": np.where(scored, (yo >= lo80) & (yo <= hi80), np.nan),
                    "hit95": np.where(scored, (yo >= lo95) & (yo <= hi95), np.nan),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _task(args: tuple[str, int, list[int], list[Candidate]]) -> pd.DataFrame:
    coin, h, years, candidates = args
    daily = load_ohlcv(coin)
    first = next((y for y in years if eligible(daily, y)), None)
    if first is None:
        return pd.DataFrame()
    tic = time.perf_counter()
    out = walk_coin(
        coin,
        h,
        pd.Timestamp(f"{first}-01-01", tz="UTC"),
        pd.Timestamp(f"{max(years)}-12-31", tz="UTC"),
        candidates,
        daily=daily,
    )
    out["year"] = out["origin"].dt.year
    out = out[out["year"].isin(years)]
    print(f"  {coin:12s} h={h:<2d} from {first}: {time.perf_counter() - tic:6.1f}s", flush=True)
    return out


def _one_sided_worse(d: Any) -> float:
    """p-value of 'the candidate's CRPS is higher' from a two-sided HLN DM result."""
    if not np.isfinite(d.pvalue):
        return float("nan")
    return float(d.pvalue / 2 if d.statistic > 0 else 1 - d.pvalue / 2)


def binomial_band(n: int, p: float) -> tuple[int, int]:
    """Central 95% range of the number of hits in ``n`` independent windows at coverage ``p``."""
    return int(stats.binom.ppf(0.025, n, p)), int(stats.binom.ppf(0.975, n, p))


def coin_year_table(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (year, horizon, coin, candidate) on the origins every candidate scored."""
    rows = []
    for (year, h, coin), grp in scores.groupby(["year", "horizon", "coin"], sort=True):
        crps = grp.pivot(index="origin", columns="candidate", values="crps").dropna()
        h80 = grp.pivot(index="origin", columns="candidate", values="hit80").reindex(crps.index)
        h95 = grp.pivot(index="origin", columns="candidate", values="hit95").reindex(crps.index)
        every_h = np.arange(0, len(crps), int(h))  # non-overlapping windows
        for cand in crps.columns:
            row: dict[str, Any] = {
                "year": int(year),
                "horizon": int(h),
                "coin": coin,
                "candidate": cand,
                "n": len(crps),
                "crps": float(crps[cand].mean()),
                "cov80": float(h80[cand].mean()),
                "cov95": float(h95[cand].mean()),
            }
            for ref in REFERENCES:
                d = dm_crps(crps[cand].to_numpy(), crps[ref].to_numpy(), int(h))
                tag = ref.split("|")[0]
                row[f"skill_{tag}"] = 100.0 * (1.0 - row["crps"] / float(crps[ref].mean()))
                row[f"p_{tag}"] = float(d.pvalue)
                if ref == REFERENCE:
                    row["p_worse_garch_ref"] = _one_sided_worse(d)
            n_nov = len(every_h)
            for level, hits in (("80", h80), ("95", h95)):
                k = int(hits[cand].to_numpy()[every_h].sum())
                lo, hi = binomial_band(n_nov, int(level) / 100)
                row.update(
                    {
                        "nov_n": n_nov,
                        f"nov_hits{level}": k,
                        f"band{level}": f"{lo}-{hi}",
                        f"in_band{level}": bool(lo <= k <= hi),
                    }
                )
            rows.append(row)
    table = pd.DataFrame(rows)
    # Holm over the coin-years of each candidate and horizon (all years): "significantly worse"
    table["p_worse_holm"] = np.nan
    for (_, _), grp in table.groupby(["candidate", "horizon"]):
        adj = holm_adjust({str(i): p for i, p in grp["p_worse_garch_ref"].items()})
        for i, p in adj.items():
            table.loc[int(i), "p_worse_holm"] = p
    table["worse_holm"] = table["p_worse_holm"] < 0.05
    return table


def pooled_table(scores: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per (year, horizon, candidate): CRPS pooled over every coin-origin, skill vs the
    references, coverage, coin-years worse after Holm and outside their bands, PIT histogram."""
    common = scores.pivot_table(
        index=["year", "horizon", "coin", "origin"], columns="candidate", values="crps"
    ).dropna()
    pit = scores.pivot_table(
        index=["year", "horizon", "coin", "origin"], columns="candidate", values="pit"
    ).reindex(common.index)
    hits = {
        lv: scores.pivot_table(
            index=["year", "horizon", "coin", "origin"], columns="candidate", values=f"hit{lv}"
        ).reindex(common.index)
        for lv in ("80", "95")
    }
    rows = []
    for (year, h), crps in common.groupby(level=["year", "horizon"]):
        sub = table[(table["year"] == year) & (table["horizon"] == h)]
        for cand in crps.columns:
            cy = sub[sub["candidate"] == cand]
            hist, _ = np.histogram(pit.loc[crps.index, cand], bins=PIT_BINS, range=(0, 1))
            row = {
                "year": int(year),
                "horizon": int(h),
                "candidate": cand,
                "n": len(crps),
                "coin_years": len(cy),
                "crps": float(crps[cand].mean()),
                "cov80": float(hits["80"].loc[crps.index, cand].mean()),
                "cov95": float(hits["95"].loc[crps.index, cand].mean()),
                "n_worse_holm": int(cy["worse_holm"].sum()),
                "n_out_band80": int((~cy["in_band80"]).sum()),
                "n_out_band95": int((~cy["in_band95"]).sum()),
                "pit_hist": [round(float(x), 4) for x in hist / max(hist.sum(), 1)],
            }
            for ref in REFERENCES:
                tag = ref.split("|")[0]
                row[f"skill_{tag}"] = 100.0 * (1.0 - row["crps"] / float(crps[ref].mean()))
            rows.append(row)
    return pd.DataFrame(rows)


def select(scores: pd.DataFrame, years: Sequence[int]) -> dict[tuple[int, int], str]:
    """The candidate served in (year, horizon): lowest mean CRPS pooled over every coin-origin
    of the earlier years (on origins every candidate scored); garch_ref when there are none."""
    common = scores.pivot_table(
        index=["year", "horizon", "coin", "origin"], columns="candidate", values="crps"
    ).dropna()
    out = {}
    for h in sorted(scores["horizon"].unique()):
        for year in years:
            past = common[
                (common.index.get_level_values("year") < year)
                & (common.index.get_level_values("horizon") == h)
            ]
            out[(int(year), int(h))] = REFERENCE if past.empty else str(past.mean().idxmin())
    return out


def selected_table(
    scores: pd.DataFrame, choice: dict[tuple[int, int], str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The selected fallback's scores per coin-year (Holm over its coin-years at each horizon)
    and pooled per year, beside garch_ref's."""
    parts = []
    for (year, h), cand in choice.items():
        sel = scores[
            (scores["year"] == year) & (scores["horizon"] == h) & (scores["candidate"] == cand)
        ]
        parts.append(sel.assign(candidate="selected"))
    served = pd.concat([scores, *parts], ignore_index=True)
    keep = served["candidate"].isin(["selected", *REFERENCES])
    table = coin_year_table(served[keep])
    pooled = pooled_table(served[keep], table)
    return table[table["candidate"] == "selected"], pooled


def _fmt_wide(pooled: pd.DataFrame, value: str, fmt: str, h: int, width: int = 10) -> str:
    wide = pooled[pooled["horizon"] == h].pivot(index="candidate", columns="year", values=value)
    lines = [f"{'candidate':28s}" + "".join(f"{y:>{width}d}" for y in wide.columns)]
    for cand, row in wide.iterrows():
        lines.append(f"{cand:28s}" + "".join(f"{format(v, fmt):>{width}s}" for v in row))
    return "\n".join(lines)


def report(scores: pd.DataFrame, years: Sequence[int]) -> dict[str, Any]:
    table = coin_year_table(scores)
    pooled = pooled_table(scores, table)
    choice = select(scores, years)
    sel_cy, sel_pooled = selected_table(scores, choice)
    horizons = sorted(int(h) for h in scores["horizon"].unique())
    ref_crps = pooled[pooled["candidate"] == REFERENCE].set_index(["year", "horizon"])["crps"]
    print("\ngarch_ref pooled mean CRPS (log return) per year:")
    for h in horizons:
        print(
            f"  h={h:<2d} " + "  ".join(f"{y}: {ref_crps.get((y, h), np.nan):.5f}" for y in years)
        )
    for h in horizons:
        print(f"\n== h={h}: pooled CRPS skill (%) vs garch_ref (+ better) ==")
        print(_fmt_wide(pooled, "skill_garch_ref", "+.2f", h))
        print(f"\n== h={h}: pooled CRPS skill (%) vs ewma_t (uncalibrated) ==")
        print(_fmt_wide(pooled, "skill_ewma_t", "+.2f", h))
        print(f"\n== h={h}: pooled CRPS skill (%) vs the 30-day Gaussian ==")
        print(_fmt_wide(pooled, "skill_rolling_gaussian", "+.2f", h))
        print(f"\n== h={h}: pooled coverage of the 80% / 95% intervals ==")
        pooled["cov"] = [
            f"{a:.3f}/{b:.3f}" for a, b in zip(pooled["cov80"], pooled["cov95"], strict=False)
        ]
        print(_fmt_wide(pooled, "cov", "s", h, 13))
        print(
            f"\n== h={h}: coin-years significantly worse than garch_ref after Holm / coin-years;"
            " coin-years outside the binomial band at 80%,95% =="
        )
        pooled["sig"] = [
            f"{a}/{n} {b},{c}"
            for a, n, b, c in zip(
                pooled["n_worse_holm"],
                pooled["coin_years"],
                pooled["n_out_band80"],
                pooled["n_out_band95"],
                strict=False,
            )
        ]
        print(_fmt_wide(pooled, "sig", "s", h, 13))
    print("\n== The selected fallback (chosen on earlier years only) beside garch_ref ==")
    print(
        f"{'year':>4s} {'h':>3s} {'selected':26s} {'crps':>9s} {'garch_ref':>9s} {'skill%':>7s} "
        f"{'vs_ewma%':>8s} {'vs_g30%':>8s} {'cov80':>6s} {'cov95':>6s} {'ref80':>6s} "
        f"{'ref95':>6s} {'worse':>6s} {'out80':>6s} {'out95':>6s}"
    )
    sp = sel_pooled.set_index(["year", "horizon", "candidate"])
    for (year, h), cand in sorted(choice.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if (year, h, "selected") not in sp.index:
            continue
        s, r = sp.loc[(year, h, "selected")], sp.loc[(year, h, REFERENCE)]
        print(
            f"{year:>4d} {h:>3d} {cand:26s} {s['crps']:9.5f} {r['crps']:9.5f} "
            f"{s['skill_garch_ref']:+7.2f} {s['skill_ewma_t']:+8.2f} "
            f"{s['skill_rolling_gaussian']:+8.2f} {s['cov80']:6.3f} {s['cov95']:6.3f} "
            f"{r['cov80']:6.3f} {r['cov95']:6.3f} {s['n_worse_holm']:>3d}/{s['coin_years']:<2d} "
            f"{s['n_out_band80']:>3d}/{s['coin_years']:<2d} {s['n_out_band95']:>3d}/{s['coin_years']:<2d}"
        )
    print("\n== PIT histogram (10 bins, share per bin), pooled per year ==")
    for h in horizons:
        for year in years:
            for name, frame, label in (
                ("garch_ref", sel_pooled, REFERENCE),
                ("selected", sel_pooled, "selected"),
            ):
                row = frame[
                    (frame["year"] == year)
                    & (frame["horizon"] == h)
                    & (frame["candidate"] == label)
                ]
                if not row.empty:
                    hist = " ".join(f"{x:.3f}" for x in row["pit_hist"].iloc[0])
                    print(f"  h={h:<2d} {year} {name:9s} {hist}")
    print(
        "\n== The selected fallback per coin-year (coverage on all origins; band on every h-th) =="
    )
    for _, r in sel_cy.sort_values(["horizon", "year", "coin"]).iterrows():
        print(
            f"  h={r['horizon']:<2d} {r['year']} {r['coin']:12s} n={r['n']:3d} "
            f"skill={r['skill_garch_ref']:+6.2f}% p_worse_holm={r['p_worse_holm']:.3f} "
            f"cov80={r['cov80']:.3f} cov95={r['cov95']:.3f} nov={r['nov_n']:3d} "
            f"hits80={r['nov_hits80']:3d} [{r['band80']}] hits95={r['nov_hits95']:3d} "
            f"[{r['band95']}]"
        )
    return {
        "coin_years": table.to_dict(orient="records"),
        "pooled": pooled.drop(columns=["cov", "sig"], errors="ignore").to_dict(orient="records"),
        "selected": {f"{y}/{h}": c for (y, h), c in choice.items()},
        "selected_coin_years": sel_cy.to_dict(orient="records"),
        "selected_pooled": sel_pooled.to_dict(orient="records"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--years", default=",".join(map(str, YEARS)))
    parser.add_argument("--horizons", default=",".join(map(str, HORIZONS)))
    parser.add_argument("--coins", default=",".join(a.id for a in snapshot_assets()))
    parser.add_argument(
        "--candidates",
        default=None,
        help="model|calibration,... or all (default: the protocol's list)",
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write every table here")
    args = parser.parse_args()
    years = [int(y) for y in args.years.split(",")]
    candidates = parse_candidates(args.candidates)
    tasks = [
        (coin, int(h), years, candidates)
        for h in args.horizons.split(",")
        for coin in args.coins.split(",")
    ]
    print(
        f"{len(candidates)} candidates, {len(tasks)} coin-horizon walks, years {years}, "
        f"{args.processes} processes; load: {os.getloadavg()}",
        flush=True,
    )
    tic = time.perf_counter()
    if args.processes > 1:
        with ProcessPoolExecutor(max_workers=args.processes) as pool:
            parts = list(pool.map(_task, tasks))
    else:
        parts = [_task(t) for t in tasks]
    scores = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    wall = time.perf_counter() - tic
    out = report(scores, years)
    print(f"\nwall {wall:.0f}s for the walks; load at the end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, default=str)


if __name__ == "__main__":
    main()
