"""Model registry: which model serves production for each coin, model type and horizon, and why.

>>> from cryptoforecast.registry import model_registry          # doctest: +SKIP
>>> model_id = model_registry.register_model(model_type="lightgbm", crypto_id="bitcoin",
...     model_path="bitcoin/lightgbm/h1/run1", metrics={"val_mase": 0.98}, config={},
...     status="production", force=True)   # no gate decision: recorded  # doctest: +SKIP
>>> from cryptoforecast.models import load_registered           # doctest: +SKIP
>>> load_registered(model_registry.get_production_model("bitcoin", "lightgbm"))  # doctest: +SKIP

``model_registry`` is a lazy stand-in for ``ModelRegistry()``: importing this package touches no
database; the real registry is built on first attribute access, from the environment at that
moment (``$CRYPTOFORECAST_REGISTRY_URL``, ``$CRYPTOFORECAST_HOME``), and rebuilt if those change.
"""

from __future__ import annotations

from typing import Any

from cryptoforecast.paths import home_dir
from cryptoforecast.registry.database import default_registry_url
from cryptoforecast.registry.engine import URL_FORMS, make_engine
from cryptoforecast.registry.kinds import DISTRIBUTION, KINDS, kind_of
from cryptoforecast.registry.lineage import compute_lineage
from cryptoforecast.registry.model_registry import ModelRegistry
from cryptoforecast.registry.record import ModelRecord, StageEvent
from cryptoforecast.registry.schema import SCHEMA_VERSION, STAGES, UTCDateTime

__all__ = [
    "DISTRIBUTION",
    "KINDS",
    "kind_of",
    "SCHEMA_VERSION",
    "STAGES",
    "ModelRecord",
    "ModelRegistry",
    "StageEvent",
    "compute_lineage",
    "default_registry",
    "default_registry_url",
    "model_registry",
    "URL_FORMS",
    "UTCDateTime",
    "make_engine",
]


class _LazyRegistry:
    """Forwards attribute access to a ``ModelRegistry()`` built on first use.

    The instance is cached per (registry URL, ``$CRYPTOFORECAST_HOME``) so a changed environment
    (another home in each test, another URL) gets its own registry.
    """

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], ModelRegistry] = {}

    def _get(self) -> ModelRegistry:
        key = (default_registry_url(), str(home_dir(create=False)))
        reg = self._cache.get(key)
        if reg is None:
            for old in self._cache.values():
                old.close()
            self._cache.clear()
            reg = self._cache[key] = ModelRegistry()
        return reg

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __repr__(self) -> str:
        return f"<lazy default {self._get()!r}>"


model_registry: ModelRegistry = _LazyRegistry()  # type: ignore[assignment]


def default_registry() -> ModelRegistry:
    """The real default :class:`ModelRegistry` behind ``model_registry``."""
    return model_registry._get()  # type: ignore[attr-defined]
