"""Retraining global models: one retraining per (universe, horizon), not one per coin.

``retrain_stale`` finds stale keys per coin; a global model's keys (one record per coin, one
shared artifact) must be retrained together, on the universe the stale model was trained on.
:func:`retrain_global` groups them and runs :func:`train_global_model` once per group, returning
one :class:`TrainingSummary` per coin, like ``train_task``'s.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from cryptoforecast.config import Settings
from cryptoforecast.redaction import redact
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.global_training import (
    GLOBAL_MODEL,
    global_summaries,
    train_global_model,
)
from cryptoforecast.training.results import TrainingSummary

__all__ = ["StaleKey", "retrain_global"]


class StaleKey(Protocol):
    """What :func:`retrain_global` reads of a key due for retraining
    (:class:`~cryptoforecast.training.retrain.StaleModel` is one)."""

    @property
    def crypto_id(self) -> str: ...

    @property
    def horizon(self) -> int: ...

    @property
    def newest_model_id(self) -> int: ...

    @property
    def days(self) -> int | None: ...

    @property
    def source(self) -> str: ...


def retrain_global(
    stale: Sequence[StaleKey], registry: ModelRegistry, settings: Settings
) -> list[TrainingSummary]:
    """Retrain the global models behind ``stale`` keys; one summary per stale key, in order."""
    groups: dict[tuple[tuple[str, ...], int, int, str], list[StaleKey]] = {}
    for s in stale:
        rec = registry.get(s.newest_model_id)
        universe = tuple((rec.config or {}).get("universe") or (s.crypto_id,))
        days = s.days or settings.training.days
        groups.setdefault((universe, s.horizon, days, s.source), []).append(s)
    by_key: dict[tuple[str, int], TrainingSummary] = {}
    for (universe, horizon, days, source), members in groups.items():
        started = time.perf_counter()
        try:
            result = train_global_model(
                universe, horizon, days, True, source, None, settings, registry
            )
            for summary in global_summaries(result, time.perf_counter() - started):
                by_key[(summary.crypto_id, horizon)] = summary
        except Exception as exc:  # reported beside the other retrainings, like train_task's
            for s in members:
                by_key[(s.crypto_id, horizon)] = TrainingSummary(
                    crypto_id=s.crypto_id,
                    model_type=GLOBAL_MODEL,
                    horizon=horizon,
                    error=f"{type(exc).__name__}: {redact(exc)}",
                )
    return [by_key[(s.crypto_id, s.horizon)] for s in stale]
