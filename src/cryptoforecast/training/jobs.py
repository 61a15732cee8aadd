"""Scale-out: fan many trainings out as Dask tasks, on this machine or on a cluster.

``train_many(["bitcoin", "ethereum"], ["lightgbm"], [1, 7])`` submits one task per
(crypto_id, model_type, horizon). With ``scheduler=None`` a ``distributed.LocalCluster`` sized
to the machine (one single-threaded worker process per core) is started and closed again; with
``scheduler="tcp://host:8786"`` the same tasks go to that cluster. Either way the code path is
the same: :func:`train_task`, a top-level function of plain arguments, runs
``train_model_for_crypto`` on a worker and returns a typed :class:`TrainingSummary` (plain
values, never the model; the model is in the registry). Every task gets the same explicit settings and seed, so results equal
a sequential run of :func:`train_task`.

Workers on other machines must see the same registry and artifact root: use a shared database
(``CRYPTOFORECAST_REGISTRY_URL``, e.g. PostgreSQL) and a shared artifact directory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptoforecast.compat import import_optional
from cryptoforecast.config import Settings
from cryptoforecast.exceptions import ConfigError, CryptoForecastError
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.results import TrainingSummary, training_result
from cryptoforecast.training.train_pipeline import (
    TRAINABLE_MODELS,
    resolve_settings,
    train_model_for_crypto,
)

__all__ = [
    "TrainSpec",
    "machine_workers",
    "run_specs",
    "summarise_model",
    "train_many",
    "train_task",
]

#: one training job: plain values only, so it crosses process boundaries as it is
TrainSpec = dict[str, Any]


def machine_workers() -> int:
    """Cores this process may use (CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def summarise_model(model: Any, seconds: float | None = None) -> TrainingSummary:
    """The summary of a model returned by ``train_model_for_crypto`` (its ``training_result_``)."""
    return training_result(model).summary(seconds)


def train_task(
    crypto_id: str,
    model_type: str,
    horizon: int,
    days: int,
    tune: int,
    source: str,
    end: str | None,
    settings: Mapping[str, Any],
    registry_url: str | None,
    artifact_root: str | None,
    save_model: bool = True,
) -> TrainingSummary:
    """Train one model and return its summary; runs on a Dask worker (or inline).

    Arguments are plain values (``settings`` is ``Settings.model_dump(mode="json")``). A
    :class:`CryptoForecastError` (bad data, bad config) becomes the summary's ``error`` so one
    failing coin does not cancel the others; anything else propagates.
    """
    started = time.perf_counter()
    out = TrainingSummary(crypto_id=crypto_id, model_type=model_type, horizon=horizon, days=days)
    cfg = Settings.model_validate(dict(settings))
    registry = ModelRegistry(registry_url, artifact_root) if save_model else None
    try:
        model = asyncio.run(
            train_model_for_crypto(
                crypto_id,
                model_type=model_type,
                days=days,
                save_model=save_model,
                horizon=horizon,
                tune=tune,
                source=source,
                end=end,
                config=cfg,
                registry=registry,
            )
        )
        out = summarise_model(model)
    except CryptoForecastError as exc:
        out = out.with_fields(error=f"{type(exc).__name__}: {exc}")
    finally:
        if registry is not None:
            registry.close()
    return out.with_fields(seconds=time.perf_counter() - started)


def _specs(
    crypto_ids: Iterable[str],
    model_types: Iterable[str],
    horizons: Iterable[int],
    days: int,
    tune: int,
    source: str,
    end: Any,
    settings: Settings,
    registry_url: str | None,
    artifact_root: str | None,
    save_model: bool,
) -> list[TrainSpec]:
    dumped = settings.model_dump(mode="json")
    return [
        {
            "crypto_id": c,
            "model_type": m,
            "horizon": int(h),
            "days": int(days),
            "tune": int(tune),
            "source": source,
            "end": None if end is None else str(end),
            "settings": dumped,
            "registry_url": registry_url,
            "artifact_root": artifact_root,
            "save_model": save_model,
        }
        for c in crypto_ids
        for m in model_types
        for h in horizons
    ]


def run_specs(
    specs: Sequence[TrainSpec],
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: Callable[[TrainingSummary], None] | None = None,
    processes: bool = True,
) -> list[TrainingSummary]:
    """Run :func:`train_task` for every spec on Dask; summaries come back in ``specs`` order.

    ``scheduler=None`` starts a ``LocalCluster`` of ``n_workers`` (default: one per core)
    single-threaded worker processes; otherwise ``Client(scheduler)`` connects to a running
    cluster. ``progress(summary)`` is called as each task finishes.
    """
    dist = import_optional("distributed", "train_many")
    Client, LocalCluster, as_completed = dist.Client, dist.LocalCluster, dist.as_completed

    if not specs:
        return []
    cluster = None
    if scheduler is None:
        workers = n_workers or min(machine_workers(), len(specs))
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # a free port: several clusters may run side by side
            silence_logs=logging.WARNING,
        )
        client = Client(cluster)
    else:
        if not isinstance(scheduler, str) or "://" not in scheduler:
            raise ConfigError(
                f"scheduler must be a Dask scheduler address like 'tcp://host:8786', got {scheduler!r}"
            )
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ConfigError(
                f"could not connect to the Dask scheduler at {scheduler!r}: {exc}; start one with "
                "`dask scheduler` (and `dask worker <address>` on each machine) or omit --scheduler"
            ) from None
    try:
        batch = uuid.uuid4().hex[:8]
        futures = [
            client.submit(
                train_task,
                **spec,
                key=f"train-{spec['crypto_id']}-{spec['model_type']}-h{spec['horizon']}-{batch}-{i}",
                pure=False,
            )
            for i, spec in enumerate(specs)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[TrainingSummary | None] = [None] * len(futures)
        for fut in as_completed(futures):
            try:
                summary: TrainingSummary = fut.result()
            except Exception as exc:  # an unexpected failure: report it beside the others
                spec = specs[index[fut.key]]
                summary = TrainingSummary(
                    crypto_id=spec["crypto_id"],
                    model_type=spec["model_type"],
                    horizon=spec["horizon"],
                    days=spec["days"],
                    error=f"{type(exc).__name__}: {exc}",
                    traceback="".join(traceback.format_exception(exc))[-2000:],
                )
            results[index[fut.key]] = summary
            if progress is not None:
                progress(summary)
        return [r for r in results if r is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def train_many(
    crypto_ids: Sequence[str],
    model_types: Sequence[str] = ("lightgbm",),
    horizons: Sequence[int] = (1,),
    scheduler: str | None = None,
    *,
    days: int | None = None,
    tune: int = 0,
    source: str = "snapshot",
    end: Any = None,
    config: Any = None,
    registry: Any = None,
    save_model: bool = True,
    n_workers: int | None = None,
    progress: Callable[[TrainingSummary], None] | None = None,
    processes: bool = True,
) -> list[TrainingSummary]:
    """Train every (crypto_id, model_type, horizon) on Dask and return one summary per training.

    Args:
        crypto_ids, model_types, horizons: the grid to train (their product).
        scheduler: ``None`` for a LocalCluster sized to the machine, or a scheduler address.
        days: training window (default ``training.days`` of the config).
        tune, source, end, save_model: as for ``train_model_for_crypto``.
        config: ``Settings``, overrides mapping, YAML path or ``None``; resolved here once and
            sent to every task as plain values.
        registry: a ``ModelRegistry`` whose URL and artifact root the workers use (default:
            the configured one).
        n_workers: LocalCluster workers (default: one per core, at most one per task).
        progress: called with each summary as it arrives.

    Returns:
        One :class:`TrainingSummary` per training (ids, status, validation metrics beside
        naive, gate reason, seconds, or ``error``) in grid order.
    """
    settings = resolve_settings(config)
    for m in model_types:
        if m not in TRAINABLE_MODELS:
            raise ConfigError(f"unknown model_type {m!r}; use one of {', '.join(TRAINABLE_MODELS)}")
    registry_url = getattr(registry, "url", None)
    root = getattr(registry, "artifact_root", None)
    if save_model and registry is None:
        default = ModelRegistry()
        registry_url, root = default.url, default.artifact_root
    specs = _specs(
        crypto_ids,
        model_types,
        horizons,
        days or settings.training.days,
        tune,
        source,
        end,
        settings,
        registry_url,
        None if root is None else str(Path(root)),
        save_model,
    )
    return run_specs(
        specs, scheduler=scheduler, n_workers=n_workers, progress=progress, processes=processes
    )
