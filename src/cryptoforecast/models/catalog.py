"""Every forecaster by name: build one (``make_forecaster``), load one from its artifact
(``load_forecaster``) or from a registry record whose hashes were checked (``load_registered``).

:data:`MODEL_CLASSES` is the one table of point models. It is built in layers so that the
ensemble and the shrunk model, which build their bases by name, need no import of this module:
``factory.BASE_CLASSES`` (what an ensemble may hold), ``shrunk.SHRINKABLE`` (those and the
ensemble), then the shrunk and the cross-asset models here. Every other list of model names is
read off this table (:data:`MODEL_TYPES`, :data:`CROSS_ASSET_MODEL_TYPES`,
``training.fit.TRAINABLE_MODELS``, ``training.tuning.TUNABLE_MODELS``) or, where a static
declaration is needed (the ``Literal`` names of the config), tested against it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.base import BaseForecaster, Forecaster
from cryptoforecast.models.factory import build, class_for, load_with
from cryptoforecast.models.global_model import GlobalLightGBMForecaster
from cryptoforecast.models.shrunk import SHRINKABLE, ShrunkForecaster

__all__ = [
    "CROSS_ASSET_MODEL_TYPES",
    "MODEL_CLASSES",
    "MODEL_TYPES",
    "RegisteredArtifact",
    "load_forecaster",
    "load_registered",
    "make_forecaster",
    "model_class",
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


def model_class(model_type: str) -> type:
    """The forecaster class registered under ``model_type``."""
    return class_for(MODEL_CLASSES, model_type)


def make_forecaster(model_type: str, horizon: int = 1, **params: Any) -> Forecaster:
    """Build an unfitted forecaster by name with plain keyword hyperparameters."""
    return build(MODEL_CLASSES, model_type, horizon, **params)


def load_forecaster(path: str | Path) -> Forecaster:
    """Load any saved model directory, choosing the class from its manifest."""
    return load_with(MODEL_CLASSES, path)


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
