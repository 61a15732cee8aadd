"""Lazy imports of heavy dependencies, with an error that names what to install.

Heavy libraries (torch, lightgbm, xgboost, distributed) are imported where they are used, never
when ``cryptoforecast`` is imported; :func:`import_optional` is the one place that does it.
:func:`lazy_exports` is the one way a subpackage exports names whose modules load heavy libraries.

Imports from several threads at once can see a half-initialised module (``module 'scipy' has no
attribute '_lib'``), and a failed import can leave ``sys.modules`` broken for the rest of the
process. So :func:`import_optional` holds one process-wide lock, and a long-running process (the
service) calls :func:`preload` once, on its main thread, before any request thread exists: every
library a request can reach is then already imported whole.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["SERVING_LIBRARIES", "import_optional", "lazy_exports", "preload"]

#: what to ``pip install`` for each module the package imports lazily
INSTALL: dict[str, str] = {
    "lightgbm": "lightgbm==4.7.0",
    "xgboost": "xgboost-cpu==3.2.0",
    "torch": "torch==2.13.0",
    "distributed": "dask[distributed]==2026.8.0",
    "arch": "arch==8.0.0",
    "optuna": "optuna==5.0.0",
    "httpx": "httpx==0.28.1",
    "swagger_ui_bundle": "swagger-ui-bundle-v2==5.31.0",
}


#: the heavy libraries a forecast request can reach: the model libraries a registered artifact
#: loads with, and the scipy modules the scale models and scores use
SERVING_LIBRARIES: tuple[str, ...] = (
    "scipy.stats",
    "scipy.special",
    "scipy.signal",
    "scipy.optimize",
    "lightgbm",
    "xgboost",
    "torch",
    "arch",
)

_IMPORT_LOCK = threading.RLock()


def import_optional(module: str, needed_by: str) -> ModuleType:
    """Import ``module``; if it is missing, raise an ImportError naming ``needed_by`` and the fix.

    One process-wide lock is held while importing, so two threads never initialise a library
    at the same time.
    """
    try:
        with _IMPORT_LOCK:
            return importlib.import_module(module)
    except ImportError as exc:
        install = INSTALL.get(module, module)
        raise ImportError(f"{needed_by} needs {module}: pip install '{install}'") from exc


def preload(modules: Iterable[str] = SERVING_LIBRARIES) -> dict[str, str]:
    """Import ``modules`` now, under the import lock; returns the ones that failed and why.

    Call it on the main thread of a long-running process before it starts threads. A library
    that is not installed is reported, not raised: the models that need it then fall back,
    labelled, when a request reaches them.
    """
    failed: dict[str, str] = {}
    for module in modules:
        try:
            import_optional(module, "serving")
        except ImportError as exc:
            failed[module] = str(exc)
    return failed


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
        with _IMPORT_LOCK:
            return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(importlib.import_module(package))))

    return __getattr__, __dir__
