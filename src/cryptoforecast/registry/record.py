"""Read-only views of registry rows: :class:`ModelRecord` and :class:`StageEvent`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.paths import confine
from cryptoforecast.registry.integrity import ROOT_NAME, verify_artifact

__all__ = ["ModelRecord", "StageEvent", "validation_mase"]

_MASE_KEYS = ("val_mase", "validation_mase", "mase_val", "mase")


def validation_mase(metrics: dict[str, Any]) -> float | None:
    """The validation MASE held in a metrics dict, or None.

    Looks at ``val_mase``, ``validation_mase``, ``mase_val``, ``mase`` and then at a nested
    ``metrics["validation"]["mase"]``; non-finite values count as absent.
    """
    candidates: list[Any] = [metrics.get(k) for k in _MASE_KEYS]
    nested = metrics.get("validation")
    if isinstance(nested, dict):
        candidates.append(nested.get("mase"))
    for value in candidates:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


@dataclass(frozen=True)
class ModelRecord:
    """One registered model, as stored: where its artifact is and the hashes that vouch for it.

    The registry does not load models: ``cryptoforecast.models.load_registered(record)`` verifies
    the hashes (:meth:`verify`) and loads the forecaster.

    ``kind`` is ``"point"`` or ``"distribution"`` (:mod:`~cryptoforecast.registry.kinds`); a
    distribution's scale model is named in ``config["distribution"]``.

    ``artifact_path`` is absolute (the registry's artifact root joined with ``artifact_relpath``);
    ``artifact_files`` maps each artifact file to the sha256 recorded at registration.
    """

    model_id: int
    crypto_id: str
    model_type: str
    kind: str
    horizon: int
    version: str
    status: str
    metrics: dict[str, Any]
    config: dict[str, Any]
    lineage: dict[str, Any]
    feature_importance: dict[str, float] | None
    artifact_path: Path
    artifact_relpath: str
    artifact_files: dict[str, str] = field(repr=False)
    created_at: datetime
    updated_at: datetime
    created_by: str
    artifact_root: Path | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, int]:
        """``(crypto_id, model_type, horizon)``: at most one production model per key."""
        return (self.crypto_id, self.model_type, self.horizon)

    @property
    def scale_model(self) -> str | None:
        """A distribution's scale model (``config["distribution"]``: ``garch_t``, ``har_rv``,
        ...); ``None`` for a point model, or a distribution that does not name one."""
        name = self.config.get("distribution") if self.kind == "distribution" else None
        return name if isinstance(name, str) and name else None

    @property
    def validation_mase(self) -> float | None:
        """The validation MASE from ``metrics`` (see :func:`validation_mase`), or None."""
        return validation_mase(self.metrics)

    def confined_path(self) -> Path:
        """The artifact path, resolved again and confined to the artifact root.

        The stored path is not trusted: an absolute path, ``..`` or a symbolic link anywhere on
        the way (an artifact directory swapped for a link) raises ``ArtifactError``.
        """
        if self.artifact_root is None:
            raise ArtifactError(
                f"model {self.model_id} has no artifact root to confine its artifact to; "
                "load it through cryptoforecast.models.load_registered(ModelRegistry().get(model_id))"
            )
        return confine(
            self.artifact_relpath,
            self.artifact_root,
            f"artifact_path of model {self.model_id}",
            root_name=ROOT_NAME,
        )

    def verify(self) -> Path:
        """Check every artifact file against its recorded sha256; raise ``ArtifactError`` if not.

        Returns the confined artifact path (see :meth:`confined_path`).
        """
        path = self.confined_path()
        verify_artifact(path, self.artifact_files)
        return path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the record (paths and datetimes as strings)."""
        out = asdict(self)
        out.pop("artifact_root")
        out["artifact_path"] = str(self.artifact_path)
        out["created_at"] = self.created_at.isoformat()
        out["updated_at"] = self.updated_at.isoformat()
        return out


@dataclass(frozen=True)
class StageEvent:
    """One row of the append-only ``stage_history``.

    ``event`` is ``register``, ``promote``, ``archive``, ``rollback`` or ``gate``; for a gate
    decision ``from_status == to_status`` and ``reason`` says why the model stayed where it was.
    """

    event_id: int
    model_id: int
    crypto_id: str
    model_type: str
    horizon: int
    event: str
    from_status: str | None
    to_status: str
    reason: str
    actor: str
    at: datetime
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the event."""
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out
