"""Lazy imports of heavy dependencies, with an error that names what to install.

Heavy libraries (torch, lightgbm, xgboost, distributed) are imported where they are used, never
when ``cryptoforecast`` is imported; :func:`import_optional` is the one place that does it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional"]

#: what to ``pip install`` for each module the package imports lazily
INSTALL: dict[str, str] = {
    "lightgbm": "lightgbm==4.7.0",
    "xgboost": "xgboost-cpu==3.2.0",
    "torch": "torch==2.13.0",
    "distributed": "dask[distributed]==2026.8.0",
    "arch": "arch==8.0.0",
}


def import_optional(module: str, needed_by: str) -> ModuleType:
    """Import ``module``; if it is missing, raise an ImportError naming ``needed_by`` and the fix."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        install = INSTALL.get(module, module)
        raise ImportError(f"{needed_by} needs {module}: pip install '{install}'") from exc
