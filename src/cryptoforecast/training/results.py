"""Typed training results: :class:`TrainingSummary`, what one training reports.

A summary is plain values only (no model), so it crosses process boundaries (Dask workers) as it
is and turns into JSON with :meth:`TrainingSummary.to_dict`. The fitted model, its metrics, the
gate's decision and its registry record travel together as a ``TrainingResult``
(:mod:`~cryptoforecast.training.train_pipeline`), whose ``summary()`` gives this.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["SUMMARY_METRICS", "TrainingSummary"]

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
