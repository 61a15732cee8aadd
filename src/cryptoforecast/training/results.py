"""Typed training results: :class:`TrainingResult` and :class:`TrainingSummary`.

``train_model_for_crypto`` returns the fitted model carrying one :class:`TrainingResult` (the
model, its validation metrics beside naive's, the gate's decision, the registry record) as
``training_result_``. Its :meth:`~TrainingResult.summary` is a :class:`TrainingSummary`: plain
values only (no model; its metrics are the :data:`SUMMARY_METRICS` entries of
:meth:`ValidationMetrics.to_dict <cryptoforecast.training.metrics.ValidationMetrics.to_dict>`),
so it crosses process boundaries (Dask workers) as it is and turns into JSON with
:meth:`TrainingSummary.to_dict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models.base import Forecaster
from cryptoforecast.registry.record import ModelRecord
from cryptoforecast.training.gate import GateDecision
from cryptoforecast.training.metrics import ValidationMetrics

__all__ = ["SUMMARY_METRICS", "TrainingResult", "TrainingSummary", "training_result"]

#: the validation metrics a summary keeps (each beside naive's where it has one)
SUMMARY_METRICS = (
    "mase",
    "mae",
    "naive_mae",
    "rmse",
    "naive_rmse",
    "mape",
    "naive_mape",
    "directional_accuracy",
    "improvement_vs_naive_pct",
    "dm_stat",
    "dm_pvalue",
    "dm_favours_model",
    "coverage_80",
    "coverage_95",
    "n_validation",
    "n_refits",
)


@dataclass(frozen=True)
class TrainingSummary:
    """One training of (crypto_id, model_type, horizon): ids, stage, validation beside naive.

    ``error`` is set (and the rest mostly empty) when the training failed; ``replaces_model_id``
    and ``previous_age_days`` are set by scheduled retraining.
    """

    crypto_id: str
    model_type: str
    horizon: int
    days: int | None = None
    model_id: int | None = None
    version: str | None = None
    status: str | None = None
    artifact_path: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    gate_passed: bool | None = None
    gate_reason: str | None = None
    n_features: int = 0
    seconds: float | None = None
    error: str | None = None
    traceback: str | None = None
    replaces_model_id: int | None = None
    previous_age_days: float | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def with_fields(self, **changes: Any) -> TrainingSummary:
        """A copy with ``changes`` (a summary is immutable)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the summary."""
        return asdict(self)


@dataclass(frozen=True)
class TrainingResult:
    """What one ``train_model_for_crypto`` produced, carried by the model as ``training_result_``.

    ``metrics`` are the walk-forward validation metrics beside the naive forecast's on the same
    origins (with the distribution attached and ``timings`` in their ``extra``); ``gate`` is the
    promotion gate's decision; ``record`` is the registry record when the model was saved (its
    stage after the gate), else None.
    """

    model: Forecaster = field(repr=False)
    crypto_id: str
    model_type: str
    horizon: int
    days: int
    metrics: ValidationMetrics
    params: dict[str, Any]
    tuning: dict[str, Any] | None
    gate: GateDecision
    record: ModelRecord | None = None

    @property
    def model_id(self) -> int | None:
        return None if self.record is None else self.record.model_id

    @property
    def version(self) -> str | None:
        return None if self.record is None else self.record.version

    @property
    def artifact_path(self) -> Path | None:
        return None if self.record is None else self.record.artifact_path

    @property
    def status(self) -> str | None:
        """The registry stage right after training (``production`` when the gate promoted it)."""
        return None if self.record is None else self.record.status

    def summary(self, seconds: float | None = None) -> TrainingSummary:
        """The plain-values summary (no model) that distributed training returns."""
        flat = self.metrics.to_dict()
        return TrainingSummary(
            crypto_id=self.crypto_id,
            model_type=self.model_type,
            horizon=self.horizon,
            days=self.days,
            model_id=self.model_id,
            version=self.version,
            status=self.status,
            artifact_path=None if self.artifact_path is None else str(self.artifact_path),
            metrics={k: flat[k] for k in SUMMARY_METRICS if k in flat},
            gate_passed=self.gate.promote,
            gate_reason=self.gate.reason,
            n_features=len(getattr(self.model, "feature_names_", []) or []),
            seconds=seconds,
        )


def training_result(model: Any) -> TrainingResult:
    """The :class:`TrainingResult` a model returned by ``train_model_for_crypto`` carries."""
    result = getattr(model, "training_result_", None)
    if not isinstance(result, TrainingResult):
        raise ConfigError(
            f"{type(model).__name__} carries no training result: only a model returned by "
            "train_model_for_crypto has one (as .training_result_)"
        )
    return result
