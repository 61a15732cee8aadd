"""Package-level promises: cheap import, exported names, one exception tree."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import cryptoforecast
from cryptoforecast import exceptions


def test_import_is_fast_and_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import cryptoforecast, cryptoforecast.data, "
        "cryptoforecast.models, cryptoforecast.config; dt = time.perf_counter() - t; "
        "heavy = [m for m in ('torch', 'lightgbm', 'xgboost', 'fastapi', 'dask', 'distributed', 'optuna', 'sqlalchemy') if m in sys.modules]; "
        "print(dt); print(','.join(heavy))"
    )
    best = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[0])
        for _ in range(3)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[1:] == [] or out[1] == "", f"heavy modules imported at import time: {out[1:]}"
    assert best < 0.5, f"import cryptoforecast took {best:.3f}s"


def test_exception_tree() -> None:
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        assert issubclass(cls, exceptions.CryptoForecastError)
    assert issubclass(exceptions.SourceError, exceptions.DataError)
    assert issubclass(exceptions.NotFittedError, ValueError)
    assert issubclass(exceptions.FeatureMismatchError, exceptions.ArtifactError)


PUBLIC_MODULES = [
    "cryptoforecast",
    "cryptoforecast.exceptions",
    "cryptoforecast.config",
    "cryptoforecast.data",
    "cryptoforecast.data.schema",
    "cryptoforecast.data.cache",
    "cryptoforecast.models",
    "cryptoforecast.models.base",
    "cryptoforecast.models.intervals",
    "cryptoforecast.models.artifacts",
    "cryptoforecast.models.baselines",
]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_all_names_exist(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__all__, f"{module} must declare __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{module}.__all__ lists missing names {missing}"


def test_version_matches_metadata() -> None:
    from importlib.metadata import version

    assert cryptoforecast.__version__ == version("cryptoforecast")
