"""Fan-out speedup of training on a warm 2-worker Dask cluster vs one after another.

What it does (in a temporary ``$CRYPTOFORECAST_HOME``, nothing else touched):

1. starts ``dask scheduler`` and two single-threaded ``dask worker`` processes on 127.0.0.1
   (subprocesses, stopped at the end) and warms them up: each worker trains one model first, so
   imports and first-call costs are not in the timing;
2. trains the grid (default: the 8 embedded assets x LightGBM and XGBoost at h=1 = 16
   trainings, config hyperparameters, ``--days`` candles) once in this process, one after
   another (``train_task``, warmed up the same way), and once on the cluster (``run_specs`` with
   the scheduler address: what ``train --scheduler tcp://...`` does), each into its own registry;
3. prints both wall times, the speedup (aim: >= 1.7x on 2 cores) and checks the two runs gave
   the same validation MASE per training.

Run: ``.venv/bin/python benchmarks/bench_distributed.py [--models lightgbm xgboost] [--days 730]``
(``--assets N`` trains only the first N embedded assets: a short check that the script runs).
The speedup is bounded by the cores the machine can actually give two workers: on a shared,
loaded machine it is lower than on an idle one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # cryptoforecast is imported in main(), once $CRYPTOFORECAST_HOME is set
    from cryptoforecast.training.jobs import TrainSpec
    from cryptoforecast.training.results import TrainingSummary

REPO = Path(__file__).resolve().parents[1]


def grid_specs(
    ids: Sequence[str],
    models: Sequence[str],
    horizons: Sequence[int],
    days: int,
    settings: dict[str, Any],
    registry_url: str,
    artifact_root: str,
) -> list[TrainSpec]:
    """One ``train_task`` spec per (asset, model, horizon), into the registry given."""
    return [
        {
            "crypto_id": c,
            "model_type": m,
            "horizon": int(h),
            "days": int(days),
            "tune": 0,
            "source": "snapshot",
            "end": None,
            "settings": settings,
            "registry_url": registry_url,
            "artifact_root": artifact_root,
            "save_model": True,
        }
        for c in ids
        for m in models
        for h in horizons
    ]


def compare(
    sequential: Sequence[TrainingSummary], distributed: Sequence[TrainingSummary]
) -> tuple[list[TrainingSummary], bool]:
    """The failed trainings of both runs, and whether each training got the same validation MASE
    in both (the runs list the same grid in the same order)."""
    failed = [s for s in [*sequential, *distributed] if s.failed]
    same = len(sequential) == len(distributed) and all(
        (a.crypto_id, a.model_type, a.horizon) == (b.crypto_id, b.model_type, b.horizon)
        and a.metrics.get("mase") == b.metrics.get("mase")
        for a, b in zip(sequential, distributed, strict=True)
    )
    return failed, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lightgbm", "xgboost"])
    parser.add_argument("--horizons", nargs="+", type=int, default=[1])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--assets", type=int, default=None, help="only the first N assets")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cf-bench-dist-") as tmp:
        home = Path(tmp)
        os.environ["CRYPTOFORECAST_HOME"] = str(home)
        for var in ("CRYPTOFORECAST_REGISTRY_URL", "CRYPTOFORECAST_LEDGER_URL"):
            os.environ.pop(var, None)
        sys.path.insert(0, str(REPO))  # the test suite's cluster launcher
        from tests.dask_cluster import DaskCluster

        from cryptoforecast.assets import snapshot_assets
        from cryptoforecast.config import load_config
        from cryptoforecast.registry import ModelRegistry
        from cryptoforecast.training.jobs import run_specs, train_task

        settings = load_config().model_dump(mode="json")
        ids = [a.id for a in snapshot_assets()][: args.assets]

        def specs(name: str) -> list[TrainSpec]:
            reg = ModelRegistry(f"sqlite:///{home / name}.db", home / f"{name}-artifacts")
            out = grid_specs(
                ids, args.models, args.horizons, args.days, settings, reg.url,
                str(reg.artifact_root),
            )  # fmt: skip
            reg.close()
            return out

        grid = specs("sequential")
        print(
            f"{len(grid)} trainings: {len(ids)} assets x {args.models} x h={args.horizons}, "
            f"{args.days} candles, config hyperparameters; {os.cpu_count()} cores on this machine"
        )
        with DaskCluster(home / "dask", n_workers=2) as cluster:
            t = time.perf_counter()
            run_specs(specs("warmup")[:2] + specs("warmup")[-2:], scheduler=cluster.address)
            print(f"cluster warm-up (2 x 2 trainings, imports): {time.perf_counter() - t:.1f} s")
            t = time.perf_counter()
            dist = run_specs(specs("distributed"), scheduler=cluster.address)
            distributed = time.perf_counter() - t

        train_task(**specs("warmup-seq")[0])
        t = time.perf_counter()
        seq = [train_task(**spec) for spec in grid]
        sequential = time.perf_counter() - t

        failed, same = compare(seq, dist)
        print(f"sequential, in process:        {sequential:6.1f} s")
        print(f"warm 2-worker Dask cluster:    {distributed:6.1f} s")
        print(f"speedup: {sequential / distributed:.2f}x (aim >= 1.7x)")
        print(f"failed trainings: {len(failed)}; same validation MASE per training: {same}")
        for f in failed:
            print(f"  failed: {f.crypto_id} {f.model_type} h={f.horizon}: {f.error}")
        os.environ.pop("CRYPTOFORECAST_HOME", None)


if __name__ == "__main__":
    main()
