"""Global LightGBM across coins vs naive and the per-coin LightGBM, walk-forward, same origins.

Run: ``.venv/bin/python benchmarks/bench_global.py [--coins ...] [--horizons 1 7] [--origins 365]
[--refit 30]``.

For each horizon, every coin's training data (features plus the cross-sectional ones, target)
is built from the whole embedded snapshot; then, for each coin, the one walk-forward engine
(``validate_walk_forward``: the last ``--origins`` origins, refit every ``--refit``, purge = h,
a sliding training window) scores

- the global model (one fit per refit date on the pooled rows of every coin, shared by the
  coins: :class:`~cryptoforecast.training.global_model.GlobalFitter`), and
- the per-coin LightGBM (the same hyperparameters, fitted on that coin's rows only, without the
  cross-sectional columns),

on exactly the same origins. Prints per cell: MASE vs naive with the two-sided DM p-value
(squared error, HLN), the per-coin LightGBM's, and the DM p of global vs per-coin; then whether
any cell shows an edge (MASE < 0.98 with DM p < 0.10 against naive). Default hyperparameters
(``configs``' ``lightgbm`` section); nothing is tuned on these origins.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.stats import diebold_mariano
from cryptoforecast.features import warmup_rows
from cryptoforecast.training.fit import TopKFeatures, new_forecaster
from cryptoforecast.training.global_model import GlobalFitter, build_universe_data, load_universe
from cryptoforecast.training.validation import validate_walk_forward

COINS = tuple(a.id for a in snapshot_assets())
EDGE_MASE, EDGE_P = 0.98, 0.10


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--coins", nargs="+", default=list(COINS))
    parser.add_argument("--horizons", nargs="+", type=int, default=[1, 7])
    parser.add_argument("--origins", type=int, default=365)
    parser.add_argument("--refit", type=int, default=30)
    args = parser.parse_args()
    settings = load_config(
        overrides={
            "training": {"validation_size": args.origins, "validation_retrain_every": args.refit}
        }
    )
    params = settings.model_params("lightgbm")
    seed = settings.training.seed
    print(
        f"global vs per-coin LightGBM vs naive: {len(args.coins)} coins x h={args.horizons}, "
        f"last {args.origins} origins, refit every {args.refit}, purge = h",
        flush=True,
    )
    edges = []
    for h in args.horizons:
        t0 = time.perf_counter()
        n_rows = min(len(load_ohlcv(c)) for c in args.coins)
        days = n_rows - int(warmup_rows()) - h
        data = build_universe_data(load_universe(args.coins, days, h), days, h)
        fitter = GlobalFitter(data, h, params, seed)
        xs_cols = [c for c in next(iter(data.values())).X.columns if c.startswith("xs_")]
        print(
            f"\nh={h}: {days} training rows per coin ({len(args.coins)} coins pooled in the global "
            f"fit), {len(xs_cols)} cross-sectional features",
            flush=True,
        )
        print(
            f"{'coin':<14}{'n':>5}  {'first origin':<12} {'global MASE':>11} {'DM p':>7}  "
            f"{'per-coin MASE':>13} {'DM p':>7}  {'global vs per-coin DM p':>23}"
        )
        for coin, d in data.items():
            g_metrics, g_res = validate_walk_forward(d, settings, fit=fitter.fold_fit)
            own_cols = pd.Series(1.0, index=[c for c in d.X.columns if not c.startswith("xs_")])

            def own_model(cols=own_cols, h=h):  # type: ignore[no-untyped-def]
                # the per-coin model on the coin's own features: a fixed top-k step
                inner = new_forecaster("lightgbm", h, params, seed)
                return TopKFeatures(inner, len(cols), lambda X, y: cols)

            l_metrics, l_res = validate_walk_forward(d, settings, new_model=own_model)
            assert list(g_res["origin"]) == list(l_res["origin"])  # the same origins
            truth = g_res["y_true"].to_numpy()
            e_global = truth - g_res["y_pred"].to_numpy()
            vs = diebold_mariano(e_global, truth - l_res["y_pred"].to_numpy(), h)
            print(
                f"{coin:<14}{len(g_res):>5}  {str(g_res['origin'].iloc[0])[:10]:<12} "
                f"{g_metrics.mase:>11.3f} {g_metrics.dm_pvalue:>7.3f}  "
                f"{l_metrics.mase:>13.3f} {l_metrics.dm_pvalue:>7.3f}  {vs.pvalue:>23.3f}",
                flush=True,
            )
            for name, m in (("global", g_metrics), ("per-coin", l_metrics)):
                if m.mase < EDGE_MASE and m.dm_pvalue < EDGE_P:
                    edges.append((name, coin, h, m.mase, m.dm_pvalue))
        took = time.perf_counter() - t0
        print(f"h={h}: {len(fitter.fits)} global fits, {took:.0f} s (2 shared cores)", flush=True)
    print()
    if edges:
        for name, coin, h, mase, p in edges:
            print(f"edge: {name} {coin} h={h}: MASE {mase:.3f}, DM p {p:.3f}")
    else:
        print(f"edge (MASE < {EDGE_MASE} with DM p < {EDGE_P}): none, global or per-coin")


if __name__ == "__main__":
    main()
