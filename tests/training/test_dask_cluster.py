"""``train --all --scheduler tcp://...`` on a real Dask cluster: a ``dask scheduler`` and two
``dask worker`` processes on 127.0.0.1, a shared registry (PostgreSQL when
``CRYPTOFORECAST_TEST_POSTGRES_URL`` is set, SQLite otherwise) and a shared artifact directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.models import load_registered
from cryptoforecast.registry import ModelRegistry

from ..dask_cluster import DaskCluster
from ..postgres import POSTGRES_ENV, fresh_schema_url

#: lean settings for the workers and the command (plain environment overrides)
FAST_ENV = {
    "CRYPTOFORECAST_TRAINING__VALIDATION_SIZE": "60",
    "CRYPTOFORECAST_TRAINING__VALIDATION_RETRAIN_EVERY": "30",
}


@pytest.fixture
def shared_registry_url(tmp_path: Path) -> Iterator[str]:
    """PostgreSQL (a fresh schema) when the CI provides it, else a SQLite file."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        yield f"sqlite:///{tmp_path / 'shared-registry.db'}"
        return
    with fresh_schema_url(base, prefix="cf_dask") as url:
        yield url


@pytest.mark.slow
def test_train_all_on_a_real_scheduler_registers_every_result_once(
    tmp_path: Path, shared_registry_url: str
) -> None:
    env = dict(os.environ, CRYPTOFORECAST_REGISTRY_URL=shared_registry_url, **FAST_ENV)
    cmd = [sys.executable, "-m", "cryptoforecast.cli", "train", "--all", "--model", "drift"]
    # point models only: distribution versions on Dask are test_distributions_commands' concern
    cmd += ["--horizon", "1", "--days", "200", "--no-distribution"]
    with DaskCluster(tmp_path / "dask", n_workers=2, env=env) as cluster:
        done = subprocess.run(
            cmd + ["--scheduler", cluster.address],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + cluster.logs()
        ran = cluster.task_counts()

    ids = [a.id for a in snapshot_assets()]
    registry = ModelRegistry(shared_registry_url)  # the artifact root under the shared home
    try:
        records = registry.list_models()
        keys = Counter((r.crypto_id, r.model_type, r.horizon) for r in records)
        assert keys == Counter({(cid, "drift", 1): 1 for cid in ids})  # each exactly once
        gates = [e for e in registry.history() if e.event == "gate"]
        assert sorted(e.model_id for e in gates) == sorted(r.model_id for r in records)
        for r in records:
            gate = r.metrics["gate"]
            assert (r.status == "production") == bool(gate["promote"]), (r.crypto_id, gate)
            assert gate["reason"], (r.crypto_id, gate)
            # the artifact the worker wrote verifies and loads
            load_registered(registry.get(r.model_id))
            assert r.artifact_path.is_relative_to(registry.artifact_root)
    finally:
        registry.close()
    # the trainings ran as tasks of this scheduler, spread over both workers
    assert sum(ran.values()) == len(ids) and len(ran) == 2, ran
