"""Package-level promises: cheap import, exported names, one exception tree."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import cryptoforecast
from cryptoforecast import exceptions

HEAVY = (
    "torch",
    "lightgbm",
    "xgboost",
    "fastapi",
    "uvicorn",
    "dask",
    "distributed",
    "optuna",
    "httpx",
    "sklearn",
    "matplotlib",
    "talib",
)


def test_import_does_not_load_heavy_libraries() -> None:
    """What keeps ``import cryptoforecast`` fast (timed in benchmarks/bench_import.py): no heavy
    library is imported until it is used."""
    code = (
        "import sys; import cryptoforecast, cryptoforecast.data, cryptoforecast.models, "
        "cryptoforecast.config, cryptoforecast.features, cryptoforecast.training, "
        "cryptoforecast.evaluation, cryptoforecast.registry, cryptoforecast.serving; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported at import time: {out.stdout.strip()}"
    # SQLAlchemy is the registry's own core; the package itself does not need it
    code = "import sys, cryptoforecast, cryptoforecast.data, cryptoforecast.models; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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
    "cryptoforecast.compat",
    "cryptoforecast.config",
    "cryptoforecast.config.settings",
    "cryptoforecast.config.loader",
    "cryptoforecast.evaluation.report",
    "cryptoforecast.evaluation.backtest_run",
    "cryptoforecast.evaluation.report_figures",
    "cryptoforecast.evaluation.report_tables",
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


def test_missing_optional_dependency_names_the_fix() -> None:
    from cryptoforecast.compat import import_optional

    with pytest.raises(
        ImportError, match=r"Thing needs no_such_module_xyz: pip install 'no_such_module_xyz'"
    ):
        import_optional("no_such_module_xyz", "Thing")
    assert import_optional("json", "Thing").__name__ == "json"
