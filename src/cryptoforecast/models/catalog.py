"""Every forecaster by name: build one (``make_forecaster``), load one from its artifact
(``load_forecaster``) or from a registry record whose hashes were checked (``load_registered``).

:data:`MODEL_CLASSES` is the one table of point models. It is built in layers so that the
ensemble and the shrunk model, which build their bases by name, need no import of this module:
``factory.BASE_CLASSES`` (what an ensemble may hold), ``shrunk.SHRINKABLE`` (those and the
ensemble), then the shrunk and the cross-asset models here. Every other list of model names is
read off this table (:data:`MODEL_TYPES`, :data:`CROSS_ASSET_MODEL_TYPES`,
``training.fit.TRAINABLE_MODELS``, ``training.tuning.TUNABLE_MODELS``) or, where a static
declaration is needed (the ``Literal`` names of the config), tested against it.

Users' own forecasters (:mod:`~cryptoforecast.models.plugins`) join the table only through
:func:`load_plugins`, called once at start-up: :func:`model_classes` and :func:`model_types` are
the built-in table plus the plug-ins loaded, and every lookup here goes through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from cryptoforecast.config import Settings
from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.base import BaseForecaster, Forecaster
from cryptoforecast.models.factory import build, class_for, load_with
from cryptoforecast.models.global_model import GlobalLightGBMForecaster
from cryptoforecast.models.plugins import Plugin, import_plugins, plugin_registry
from cryptoforecast.models.shrunk import SHRINKABLE, ShrunkForecaster

__all__ = [
    "CROSS_ASSET_MODEL_TYPES",
    "MODEL_CLASSES",
    "MODEL_TYPES",
    "RegisteredArtifact",
    "load_forecaster",
    "load_plugins",
    "load_registered",
    "make_forecaster",
    "model_class",
    "model_classes",
    "model_types",
    "plugin_for",
]

#: model_type -> forecaster class: the one table of point models
MODEL_CLASSES: dict[str, type[BaseForecaster]] = {
    **SHRINKABLE,
    "shrunk": ShrunkForecaster,
    "global_lightgbm": GlobalLightGBMForecaster,
}
#: every model_type by name, in the table's order
MODEL_TYPES: tuple[str, ...] = tuple(MODEL_CLASSES)
#: the model types trained on many assets at once (one model, registered per coin); every other
#: type is trained one asset at a time
CROSS_ASSET_MODEL_TYPES: tuple[str, ...] = tuple(
    name for name, cls in MODEL_CLASSES.items() if cls.cross_asset
)


class RegisteredArtifact(Protocol):
    """What a registry record tells the loader: where the artifact is and what it must hold.

    ``verify()`` checks every file against its recorded sha256 and returns the artifact's path,
    confined to the registry's artifact root."""

    @property
    def model_id(self) -> int: ...
    @property
    def model_type(self) -> str: ...
    @property
    def horizon(self) -> int: ...
    @property
    def artifact_path(self) -> Path: ...
    def verify(self) -> Path: ...


def load_plugins(settings: Settings | Iterable[str], *, worker: bool = False) -> tuple[Plugin, ...]:
    """Import, check and add to the catalog the plug-ins ``settings.models.plugins`` names (or
    the names given): once per process, at start-up, on the main thread (the CLI's commands,
    ``create_app`` and ``train_model`` call it; a name already loaded is not imported again).
    ``worker``: a Dask worker process (it answers no requests) imports them on its task thread.

    Raises ConfigError naming a plug-in that cannot be imported, is not a forecaster class or
    takes a built-in's model type, or one not loaded yet when called off the main thread."""
    specs = settings.models.plugins if isinstance(settings, Settings) else list(settings)
    return import_plugins(specs, MODEL_CLASSES, plugin_registry(), any_thread=worker)


def plugin_for(model_type: str) -> Plugin | None:
    """The loaded plug-in that provides ``model_type``, or None (a built-in, or not loaded)."""
    return plugin_registry().get(model_type)


def model_classes() -> dict[str, type[BaseForecaster]]:
    """model_type -> class: :data:`MODEL_CLASSES` and the plug-ins loaded."""
    return {**MODEL_CLASSES, **plugin_registry().classes()}


def model_types() -> tuple[str, ...]:
    """Every model type: the built-ins, then the plug-ins loaded."""
    return tuple(model_classes())


def model_class(model_type: str) -> type:
    """The forecaster class registered under ``model_type``."""
    return class_for(model_classes(), model_type)


def make_forecaster(model_type: str, horizon: int = 1, **params: Any) -> Forecaster:
    """Build an unfitted forecaster by name with plain keyword hyperparameters."""
    return build(model_classes(), model_type, horizon, **params)


def load_forecaster(path: str | Path) -> Forecaster:
    """Load any saved model directory, choosing the class from its manifest."""
    return load_with(model_classes(), path)


def load_registered(record: RegisteredArtifact) -> Forecaster:
    """Verify a registered artifact's hashes, then load it (no pickle).

    Raises ``ArtifactError`` on a missing, changed or added file, an unreadable artifact, or one
    whose model type or horizon is not the record's (its forecasts would be served under the
    wrong label, e.g. a 7-day return as a 1-day forecast).
    """
    path = record.verify()  # the hashes checked, the path confined to the artifact root
    model = load_forecaster(path)
    found = (getattr(model, "model_type", None), getattr(model, "horizon", None))
    if found != (record.model_type, record.horizon):
        raise ArtifactError(
            f"artifact {str(record.artifact_path)!r} holds a {found[0]!r} model for horizon "
            f"{found[1]!r}, but model {record.model_id} is registered as {record.model_type!r} "
            f"h={record.horizon}; register it again with model_type={found[0]!r} and "
            f"horizon={found[1]!r}."
        )
    return model
