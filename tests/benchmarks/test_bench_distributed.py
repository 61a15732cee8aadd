"""The Dask fan-out benchmark reads the typed summaries training returns, so the script recorded
in benchmarks/README.md runs to its end (it once failed there on ``summary.get("error")``)."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

from cryptoforecast.training.jobs import train_task
from cryptoforecast.training.results import TrainingSummary

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "bench_distributed.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_distributed", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _summary(coin: str, mase: float | None, error: str | None = None) -> TrainingSummary:
    metrics = {} if mase is None else {"mase": mase}
    return TrainingSummary(coin, "lightgbm", 1, metrics=metrics, error=error)


def test_compare_reads_the_typed_summaries(bench: ModuleType) -> None:
    seq = [_summary("bitcoin", 0.98), _summary("ethereum", None, error="too few candles")]
    dist = [_summary("bitcoin", 0.98), _summary("ethereum", None, error="too few candles")]
    failed, same = bench.compare(seq, dist)
    assert [f.crypto_id for f in failed] == ["ethereum", "ethereum"] and same
    _, same = bench.compare(seq, [_summary("bitcoin", 0.97), dist[1]])
    assert not same
    _, same = bench.compare(seq, list(reversed(dist)))  # another order is not the same grid
    assert not same


def test_every_spec_is_a_call_of_train_task(bench: ModuleType) -> None:
    specs = bench.grid_specs(
        ["bitcoin", "ethereum"], ["lightgbm", "xgboost"], [1, 7], 400, {}, "sqlite://", "/tmp/a"
    )
    assert len(specs) == 8
    for spec in specs:
        inspect.signature(train_task).bind(**spec)  # raises on a missing or unknown argument
