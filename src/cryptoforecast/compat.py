"""Lazy imports of heavy dependencies, with an error that names what to install.

Heavy libraries (torch, lightgbm, xgboost, distributed) are imported where they are used, never
when ``cryptoforecast`` is imported; :func:`import_optional` is the one place that does it.
:func:`lazy_exports` is the one way a subpackage exports names whose modules load heavy libraries.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["import_optional", "lazy_exports"]

#: what to ``pip install`` for each module the package imports lazily
INSTALL: dict[str, str] = {
    "lightgbm": "lightgbm==4.7.0",
    "xgboost": "xgboost-cpu==3.2.0",
    "torch": "torch==2.13.0",
    "distributed": "dask[distributed]==2026.8.0",
    "arch": "arch==8.0.0",
    "optuna": "optuna==5.0.0",
    "httpx": "httpx==0.28.1",
}


def import_optional(module: str, needed_by: str) -> ModuleType:
    """Import ``module``; if it is missing, raise an ImportError naming ``needed_by`` and the fix."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        install = INSTALL.get(module, module)
        raise ImportError(f"{needed_by} needs {module}: pip install '{install}'") from exc


def lazy_exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` exporting ``where`` (name -> defining module).

    ``import package`` stays cheap: a name's module (and the heavy libraries it needs) loads on
    first access. Use as ``__getattr__, __dir__ = lazy_exports(__name__, {...})``.
    """

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(importlib.import_module(package))))

    return __getattr__, __dir__
