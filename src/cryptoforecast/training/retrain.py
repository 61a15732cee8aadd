"""Scheduled retraining: retrain every tracked model whose newest version is too old.

A *tracked* key is any (crypto_id, model_type, horizon) with a model in the registry. When the
newest model of a key (any stage) was registered more than ``older_than`` ago, the key is
retrained with the training window and data source its newest model used and the current
config's hyperparameters, through the same validation and promotion gate as a first training:
the new version reaches production only if it earns it. ``cryptoforecast retrain --older-than 7d``
runs this; a weekly cron job or systemd timer keeps models fresh.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from cryptoforecast.exceptions import ConfigError
from cryptoforecast.training.global_retrain import retrain_global
from cryptoforecast.training.global_training import GLOBAL_MODEL

__all__ = ["StaleModel", "find_stale", "parse_age", "retrain_stale"]

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(value: str | int | float | dt.timedelta) -> dt.timedelta:
    """``"7d"``, ``"12h"``, ``"2w"``, ``"30m"``, ``"90s"`` (or a number of days) as a timedelta."""
    if isinstance(value, dt.timedelta):
        age = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        age = dt.timedelta(days=float(value))
    elif isinstance(value, str) and (m := _AGE_RE.match(value)):
        age = dt.timedelta(**{_UNITS[m.group(2).lower()]: float(m.group(1))})
    else:
        raise ConfigError(
            f"older-than must be a duration like 7d, 12h, 2w, 30m or 90s, got {value!r}"
        )
    if age <= dt.timedelta(0):
        raise ConfigError(f"older-than must be positive, got {value!r}")
    return age


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


def retrain_stale(
    older_than: Any = None,
    registry: Any = None,
    config: Any = None,
    scheduler: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Retrain every stale key through the promotion gate; return one summary per key.

    Args:
        older_than: a duration (``"7d"``); default ``retrain.older_than_days`` of the config.
        registry: the ``ModelRegistry`` to scan and register into (default: the configured one).
        config: settings for the new trainings (see ``train_model_for_crypto``).
        scheduler: ``None`` trains one after another in this process; a Dask scheduler
            address (or ``"local"`` for a LocalCluster) fans the trainings out with Dask.
        dry_run: only list what would be retrained (each summary has ``"dry_run": True``).
        now: the reference time (tests).
        progress: called with each summary as it arrives.
    """
    from cryptoforecast.registry import ModelRegistry
    from cryptoforecast.training.distributed import run_specs, train_task
    from cryptoforecast.training.train_pipeline import resolve_settings

    settings = resolve_settings(config)
    reg = registry if registry is not None else ModelRegistry()
    age = older_than if older_than is not None else f"{settings.retrain.older_than_days}d"
    stale = find_stale(reg, age, now=now)
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
    if dry_run:
        out = [{**s.to_dict(), "dry_run": True} for s in stale + global_stale]
        for item in out:
            if progress is not None:
                progress(item)
        return out
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
    for s, r in zip(stale, results, strict=True):
        r["replaces_model_id"] = s.newest_model_id
        r["previous_age_days"] = round(s.age_days, 2)
    return results
