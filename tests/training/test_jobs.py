"""train_many on a real Dask LocalCluster gives the same results as a sequential run."""

from __future__ import annotations

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.jobs import _specs, machine_workers, train_many, train_task

FAST = {
    "lightgbm": {"n_estimators": 40, "early_stopping_rounds": 10},
    "training": {"validation_size": 60, "validation_retrain_every": 30, "seed": 7},
}


@pytest.mark.slow
def test_local_cluster_of_two_workers_matches_a_sequential_run(tmp_path) -> None:  # noqa: ANN001
    settings = load_config(overrides=FAST)
    grid = (["bitcoin", "ethereum"], ["lightgbm", "drift"], [7])
    reg_dask = ModelRegistry(f"sqlite:///{tmp_path / 'dask.db'}", tmp_path / "dask-artifacts")
    seen: list[str] = []
    dask_runs = train_many(
        *grid,
        days=300,
        config=settings,
        registry=reg_dask,
        n_workers=2,
        progress=lambda s: seen.append(s.crypto_id),
    )
    assert len(seen) == 4 and all(r.error is None for r in dask_runs)

    reg_seq = ModelRegistry(f"sqlite:///{tmp_path / 'seq.db'}", tmp_path / "seq-artifacts")
    specs = _specs(
        *grid, 300, 0, "snapshot", None, settings, reg_seq.url, str(reg_seq.artifact_root), True
    )
    seq_runs = [train_task(**spec) for spec in specs]

    assert [(r.crypto_id, r.model_type, r.horizon) for r in dask_runs] == [
        (r.crypto_id, r.model_type, r.horizon) for r in seq_runs
    ]
    for a, b in zip(dask_runs, seq_runs, strict=True):
        assert a.metrics == pytest.approx(b.metrics, rel=1e-12, nan_ok=True), (
            a.crypto_id,
            a.model_type,
        )
        assert a.status == b.status and a.gate_reason == b.gate_reason
    # every training was registered by the workers, with its gate decision
    recs = reg_dask.list_models()
    assert len(recs) == 4
    assert {r.model_id for r in recs} == {r.model_id for r in dask_runs}
    assert len([e for e in reg_dask.history() if e.event == "gate"]) == 4
    assert all(isinstance(r.model_id, int) for r in dask_runs)  # summaries, not models


def test_a_failing_training_is_reported_without_cancelling_the_rest(tmp_path) -> None:  # noqa: ANN001
    settings = load_config(overrides=FAST)
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    out = train_many(
        ["bitcoin"],
        ["drift"],
        [1],
        days=100_000,
        config=settings,
        registry=reg,
        n_workers=1,
        processes=False,
    )
    assert len(out) == 1 and "DataError" in out[0].error and "training window" in out[0].error
    assert reg.list_models() == []


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="unknown model_type"):
        train_many(["bitcoin"], ["arima"])
    with pytest.raises(ConfigError, match="scheduler"):
        train_many(["bitcoin"], ["naive"], scheduler="localhost", save_model=False)
    assert machine_workers() >= 1
