"""Scheduled retraining: retrain every tracked model whose newest version is too old.

A *tracked* key is any (crypto_id, model_type, horizon) with a model in the registry. When the
newest model of a key (any stage) was registered more than ``older_than`` ago, the key is
retrained with the training window and data source its newest model used and the current
config's hyperparameters, through the same validation and promotion gate as a first training:
the new version reaches production only if it earns it. ``cryptoforecast retrain --older-than 7d``
runs this; a weekly cron job or systemd timer keeps models fresh.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from cryptoforecast.config import MAX_OLDER_THAN_DAYS
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.distributed import run_specs, summarise_model, train_task
from cryptoforecast.training.global_retrain import retrain_global
from cryptoforecast.training.global_training import GLOBAL_MODEL
from cryptoforecast.training.results import TrainingSummary
from cryptoforecast.training.train_pipeline import resolve_settings, train_model_for_crypto

__all__ = [
    "StaleModel",
    "find_stale",
    "parse_age",
    "retrain_job",
    "retrain_stale",
    "stale_models",
]

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_age(value: str | int | float | dt.timedelta) -> dt.timedelta:
    """``"7d"``, ``"12h"``, ``"2w"``, ``"30m"``, ``"90s"`` (or a number of days) as a timedelta,
    from one second to :data:`~cryptoforecast.config.MAX_OLDER_THAN_DAYS` days."""
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = _times(value, 86_400)
    elif isinstance(value, str) and (m := _AGE_RE.match(value)):
        seconds = _times(float(m.group(1)), _SECONDS[m.group(2).lower()])
    else:
        raise ConfigError(
            f"older-than must be a duration like 7d, 12h, 2w, 30m or 90s, got {value!r}"
        )
    if not 1 <= seconds <= MAX_OLDER_THAN_DAYS * 86_400:  # False for NaN too
        raise ConfigError(
            f"older-than must be at least 1s and at most {MAX_OLDER_THAN_DAYS} days (100 years), "
            f"got {value!r}"
        )
    return dt.timedelta(seconds=seconds)


def _times(number: float, unit_seconds: int) -> float:
    """``number * unit_seconds`` as a float (infinite when too large for one, never an error)."""
    try:
        return float(number) * unit_seconds
    except OverflowError:  # an int beyond a float's range
        return math.inf


@dataclass(frozen=True)
class StaleModel:
    """A key due for retraining, with what its newest model was trained on."""

    crypto_id: str
    model_type: str
    horizon: int
    newest_model_id: int
    newest_version: str
    newest_created_at: dt.datetime
    age_days: float
    days: int | None
    source: str
    #: hyperparameters the newest model was tuned to (``None`` when it used the config's)
    tuned_params: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["newest_created_at"] = self.newest_created_at.isoformat()
        return out


def find_stale(
    registry: Any, older_than: Any = "7d", now: dt.datetime | None = None
) -> list[StaleModel]:
    """Keys whose newest registered model is older than ``older_than``, oldest first."""
    age = parse_age(older_than)
    now = now or dt.datetime.now(dt.UTC)
    newest: dict[tuple[str, str, int], Any] = {}
    for rec in registry.list_models():
        key = (rec.crypto_id, rec.model_type, int(rec.horizon))
        if key not in newest or rec.created_at > newest[key].created_at:
            newest[key] = rec
    stale = []
    for (crypto_id, model_type, horizon), rec in newest.items():
        if now - rec.created_at <= age:
            continue
        config = rec.config or {}
        lineage = rec.lineage or {}
        days = config.get("days")
        stale.append(
            StaleModel(
                crypto_id=crypto_id,
                model_type=model_type,
                horizon=horizon,
                newest_model_id=int(rec.model_id),
                newest_version=str(rec.version),
                newest_created_at=rec.created_at,
                age_days=(now - rec.created_at).total_seconds() / 86400,
                days=int(days) if isinstance(days, int) else None,
                source=str(config.get("source") or lineage.get("data_source") or "snapshot"),
                tuned_params=dict(config["params"])
                if config.get("tuning") and isinstance(config.get("params"), dict)
                else None,
            )
        )
    return sorted(stale, key=lambda s: s.newest_created_at)


def _with_tuned_params(settings: dict[str, Any], stale: StaleModel) -> dict[str, Any]:
    """The settings for retraining ``stale``: a tuned model keeps its tuned hyperparameters
    (retraining refreshes the data, it does not undo a tuning run); others use the config's."""
    if not stale.tuned_params or not isinstance(settings.get(stale.model_type), dict):
        return settings
    out = copy.deepcopy(settings)
    section = out[stale.model_type]
    section.update({k: v for k, v in stale.tuned_params.items() if k in section})
    return out


def stale_models(
    older_than: Any = None,
    registry: Any = None,
    config: Any = None,
    now: dt.datetime | None = None,
) -> list[StaleModel]:
    """What :func:`retrain_stale` would retrain (``older_than`` default: the config's
    ``retrain.older_than_days``), oldest first; nothing is trained."""
    settings = resolve_settings(config)
    reg = registry if registry is not None else ModelRegistry()
    age = older_than if older_than is not None else f"{settings.retrain.older_than_days}d"
    return find_stale(reg, age, now=now)


def retrain_stale(
    older_than: Any = None,
    registry: Any = None,
    config: Any = None,
    scheduler: str | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[TrainingSummary], None] | None = None,
) -> list[TrainingSummary]:
    """Retrain every stale key through the promotion gate; return one summary per key.

    Args:
        older_than: ``"7d"``, ``"12h"``...; default ``retrain.older_than_days`` of the config.
        registry: a ``ModelRegistry`` (default: the configured one).
        config: settings for the new trainings (default: :func:`load_config`).
        scheduler: ``None`` trains one after another in this process; ``"local"`` on a Dask
            LocalCluster; an address (``tcp://host:8786``) on that cluster.
        now: the current time (tests).
        progress: called with each summary as it arrives.

    Each summary carries ``replaces_model_id`` (the newest model before retraining) and
    ``previous_age_days``. :func:`stale_models` lists the keys without training them.
    """
    settings = resolve_settings(config)
    reg = registry if registry is not None else ModelRegistry()
    stale = stale_models(older_than, reg, settings, now=now)
    # a global model's keys share one artifact: they are retrained together (global_retrain)
    global_stale = [s for s in stale if s.model_type == GLOBAL_MODEL]
    stale = [s for s in stale if s.model_type != GLOBAL_MODEL]
    dumped = settings.model_dump(mode="json")
    specs: list[dict[str, Any]] = [
        {
            "crypto_id": s.crypto_id,
            "model_type": s.model_type,
            "horizon": s.horizon,
            "days": s.days or settings.training.days,
            "tune": 0,
            "source": s.source,
            "end": None,
            "settings": _with_tuned_params(dumped, s),
            "registry_url": reg.url,
            "artifact_root": str(reg.artifact_root),
            "save_model": True,
        }
        for s in stale
    ]
    if scheduler is not None:
        results = run_specs(
            specs, scheduler=None if scheduler == "local" else scheduler, progress=progress
        )
    else:
        results = []
        for spec in specs:
            summary = train_task(**spec)
            results.append(summary)
            if progress is not None:
                progress(summary)
    if global_stale:
        for summary in retrain_global(global_stale, reg, settings):
            results.append(summary)
            if progress is not None:
                progress(summary)
        stale += global_stale
    return [
        r.with_fields(replaces_model_id=s.newest_model_id, previous_age_days=round(s.age_days, 2))
        for s, r in zip(stale, results, strict=True)
    ]


def retrain_job(
    crypto_id: str | None = None,
    model_type: str | None = None,
    horizon: int | None = None,
    older_than_days: float | None = None,
    registry: Any = None,
) -> TrainingSummary | list[TrainingSummary]:
    """The service's ``POST /v1/retrain`` job (``serving.app.RetrainJob``).

    With ``crypto_id``: train that key now (``model_type`` default lightgbm, ``horizon`` default
    1) with ``train_model_for_crypto``. Without: :func:`retrain_stale` retrains every tracked key
    whose newest model is older than ``older_than_days`` (default from config). Both go through
    the promotion gate: a new model reaches production only if it beats naive.
    """
    if crypto_id is not None:
        model = asyncio.run(
            train_model_for_crypto(
                crypto_id=crypto_id,
                model_type=model_type or "lightgbm",
                horizon=horizon or 1,
                save_model=True,
                registry=registry,
            )
        )
        return summarise_model(model)
    results = retrain_stale(older_than=older_than_days, registry=registry)  # a number: days
    return [
        r
        for r in results
        if (model_type is None or r.model_type == model_type)
        and (horizon is None or r.horizon == horizon)
    ]
