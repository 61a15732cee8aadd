"""Training jobs: many trainings at once (Dask tasks), and scheduled retraining of stale keys.

**Many at once.** ``train_many(["bitcoin", "ethereum"], ["lightgbm"], [1, 7])`` submits one task
per (crypto_id, model_type, horizon). With ``scheduler=None`` a ``distributed.LocalCluster`` sized
to the machine (one single-threaded worker process per core) is started and closed again; with
``scheduler="tcp://host:8786"`` the same tasks go to that cluster. Either way the code path is
the same: :func:`train_task`, a top-level function of plain arguments, runs
:func:`~cryptoforecast.training.pipeline.train_model` on a worker and returns a typed
:class:`TrainingSummary` (plain values, never the model; the model is in the registry). Every
task gets the same explicit settings and seed, so results equal a sequential run of
:func:`train_task`. Workers on other machines must see the same registry and artifact root: use a
shared database (``CRYPTOFORECAST_REGISTRY_URL``, e.g. PostgreSQL) and a shared artifact
directory.

**On schedule.** A *tracked* key is any (crypto_id, model_type, horizon) with a model in the
registry. When the newest model of a key (any stage) was registered more than ``older_than`` ago,
the key is retrained with the training window and data source its newest model used and the
current config's hyperparameters, through the same validation and promotion gate as a first
training: the new version reaches production only if it earns it. ``cryptoforecast retrain
--older-than 7d`` runs this; a weekly cron job or systemd timer keeps models fresh. A global
model's keys (one record per coin, one shared artifact) are retrained together, once per
(universe, horizon), on the universe the stale model was trained on (:func:`retrain_global`).
A (coin, horizon)'s distribution versions are one key (model type
:data:`~cryptoforecast.registry.DISTRIBUTION`): a stale one is retrained with
:func:`~cryptoforecast.training.distributions.train_distributions` on the window and source of its
newest version, through the distribution gate; ``train_many`` takes the same model type.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import math
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cryptoforecast.compat import import_optional
from cryptoforecast.config import MAX_OLDER_THAN_DAYS, Settings
from cryptoforecast.exceptions import ConfigError, CryptoForecastError
from cryptoforecast.models import load_plugins
from cryptoforecast.redaction import redact
from cryptoforecast.registry import DISTRIBUTION, ModelRegistry
from cryptoforecast.training.distributions import train_distributions
from cryptoforecast.training.fit import trainable_models
from cryptoforecast.training.global_model import GLOBAL_MODEL, global_summaries, train_global_model
from cryptoforecast.training.pipeline import resolve_settings, train_model
from cryptoforecast.training.results import TrainingSummary, training_result

__all__ = [
    "RetrainedKeys",
    "StaleKey",
    "StaleModel",
    "StaleModels",
    "TrainSpec",
    "find_stale",
    "machine_workers",
    "parse_age",
    "retrain_global",
    "retrain_job",
    "retrain_stale",
    "run_specs",
    "stale_models",
    "summarise_model",
    "train_many",
    "train_task",
    "worker_train_task",
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
    """The summary of a model returned by ``train_model`` (its ``training_result_``)."""
    return training_result(model).summary(seconds)


def worker_train_task(**spec: Any) -> TrainingSummary:
    """:func:`train_task` on a Dask worker: the configured plug-ins are loaded on its task thread
    first (a worker process answers no requests), then the training runs as anywhere else. A
    plug-in the worker cannot load becomes the summary's ``error``, as in :func:`train_task`."""
    try:
        load_plugins(Settings.model_validate(dict(spec["settings"])), worker=True)
    except ConfigError as exc:
        keys = ("crypto_id", "model_type", "horizon", "days")
        return TrainingSummary(**{k: spec[k] for k in keys}).with_fields(
            error=f"{type(exc).__name__}: {exc}"
        )
    return train_task(**spec)


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

    Arguments are plain values (``settings`` is ``Settings.model_dump(mode="json")``). With
    ``model_type`` :data:`~cryptoforecast.registry.DISTRIBUTION` the (coin, horizon)'s
    distribution versions are trained (:func:`~cryptoforecast.training.distributions.
    train_distributions`; ``tune`` does not apply). A :class:`CryptoForecastError` (bad data, bad
    config) becomes the summary's ``error`` so one failing coin does not cancel the others;
    anything else propagates.
    """
    started = time.perf_counter()
    out = TrainingSummary(crypto_id=crypto_id, model_type=model_type, horizon=horizon, days=days)
    cfg = Settings.model_validate(dict(settings))
    registry = ModelRegistry(registry_url, artifact_root) if save_model else None
    try:
        if model_type == DISTRIBUTION:
            out = train_distributions(
                crypto_id, horizon, days, source, end, cfg, registry, save_model
            ).summary()
        else:
            model = train_model(
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
                worker_train_task,
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
        crypto_ids, model_types, horizons: the grid to train (their product);
            :data:`~cryptoforecast.registry.DISTRIBUTION` as a model type trains the
            distribution versions of each (coin, horizon).
        scheduler: ``None`` for a LocalCluster sized to the machine, or a scheduler address.
        days: training window (default ``training.days`` of the config).
        tune, source, end, save_model: as for ``train_model``.
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
    load_plugins(settings)
    trainable = trainable_models()
    for m in model_types:
        if m not in trainable and m != DISTRIBUTION:
            raise ConfigError(
                f"unknown model_type {m!r}; use one of {', '.join(trainable)} or {DISTRIBUTION}"
            )
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
    """A key due for retraining, with what its newest model was trained on.

    ``kind`` is ``point`` or ``distribution``; a distribution key (model_type ``distribution``)
    names its newest version's scale model in ``scale_model``.
    """

    crypto_id: str
    model_type: str
    horizon: int
    newest_model_id: int
    newest_version: str
    newest_created_at: dt.datetime
    age_days: float
    days: int | None
    source: str
    #: hyperparameters the newest model was tuned to (``None`` when it used the config's, and
    #: for a distribution)
    tuned_params: dict[str, Any] | None = None
    kind: str = "point"
    scale_model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["newest_created_at"] = self.newest_created_at.isoformat()
        return out


def find_stale(
    registry: Any, older_than: Any = "7d", now: dt.datetime | None = None
) -> list[StaleModel]:
    """Keys whose newest registered model (point model or distribution version) is older than
    ``older_than``, oldest first."""
    age = parse_age(older_than)
    now = now or dt.datetime.now(dt.UTC)
    newest: dict[tuple[str, str, int], Any] = {}
    # distribution versions asked for by name too, whatever a plain listing returns
    records = {r.model_id: r for r in registry.list_models()}
    records.update({r.model_id: r for r in registry.list_models(model_type=DISTRIBUTION)})
    for rec in records.values():
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
                if rec.kind == "point"
                and config.get("tuning")
                and isinstance(config.get("params"), dict)
                else None,
                kind=rec.kind,
                scale_model=rec.scale_model,
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


T = TypeVar("T")


class WithReason(list[T]):
    """A list (of stale keys, of retrained keys' summaries) and, when it is empty, ``reason``:
    why nothing is stale or retrained, worded the same for both."""

    def __init__(self, items: Iterable[T] = (), reason: str | None = None):
        super().__init__(items)
        self.reason = reason


#: the stale keys, oldest first (:func:`stale_models`)
StaleModels = WithReason[StaleModel]
#: the summaries of a retraining, one per retrained key (:func:`retrain_stale`)
RetrainedKeys = WithReason[TrainingSummary]


def stale_models(
    older_than: Any = None,
    registry: Any = None,
    config: Any = None,
    now: dt.datetime | None = None,
) -> StaleModels:
    """What :func:`retrain_stale` would retrain (``older_than`` default: the config's
    ``retrain.older_than_days``), oldest first; nothing is trained. When nothing is stale, the
    result's ``reason`` says why."""
    settings = resolve_settings(config)
    reg = registry if registry is not None else ModelRegistry()
    age = older_than if older_than is not None else f"{settings.retrain.older_than_days}d"
    stale = find_stale(reg, age, now=now)
    return StaleModels(stale, reason=None if stale else _nothing_to_retrain(reg, age, [], now=now))


def _key(crypto_id: str, model_type: str, horizon: int, scale_model: str | None = None) -> str:
    shown = f"{model_type} ({scale_model})" if scale_model else model_type
    return f"{crypto_id} {shown} h={horizon}"


def _nothing_to_retrain(
    registry: Any,
    older_than: Any,
    stale: Sequence[StaleModel],
    model_type: str | None = None,
    horizon: int | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Why a retraining of the keys older than ``older_than`` (``stale`` of them, before the
    ``model_type``/``horizon`` filter) retrains nothing, and what to do instead."""
    if stale:
        wanted = ", ".join(
            f"{name}={value}"
            for name, value in (("model_type", model_type), ("horizon", horizon))
            if value is not None
        )
        keys = "; ".join(_key(s.crypto_id, s.model_type, s.horizon, s.scale_model) for s in stale)
        return (
            f"nothing to retrain with {wanted}: no stale key matches (stale: {keys}); "
            "drop the filter to retrain those"
        )
    records = registry.list_models() + registry.list_models(model_type=DISTRIBUTION)
    if not records:
        return (
            "nothing to retrain: the registry has no models yet; train one first "
            "('cryptoforecast train COIN', or POST /v1/retrain with a crypto_id)"
        )
    now = now or dt.datetime.now(dt.UTC)
    oldest = min(records, key=lambda r: r.created_at)
    days = parse_age(older_than).total_seconds() / 86_400
    return (
        f"nothing to retrain: every tracked key's newest model is younger than {days:g} days "
        f"(the oldest, {_key(oldest.crypto_id, oldest.model_type, int(oldest.horizon))} "
        f"model {oldest.model_id}, is {(now - oldest.created_at).total_seconds() / 86_400:.1f} "
        "days old); ask for a shorter age (--older-than, older_than_days), or retrain one key "
        "now ('cryptoforecast train', or POST /v1/retrain with a crypto_id)"
    )


def retrain_stale(
    older_than: Any = None,
    registry: Any = None,
    config: Any = None,
    scheduler: str | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[TrainingSummary], None] | None = None,
    model_type: str | None = None,
    horizon: int | None = None,
) -> RetrainedKeys:
    """Retrain every stale key through the promotion gate; return one summary per key.

    Args:
        older_than: ``"7d"``, ``"12h"``...; default ``retrain.older_than_days`` of the config.
        registry: a ``ModelRegistry`` (default: the configured one).
        config: settings for the new trainings (default: :func:`load_config`).
        scheduler: ``None`` trains one after another in this process; ``"local"`` on a Dask
            LocalCluster; an address (``tcp://host:8786``) on that cluster.
        now: the current time (tests).
        progress: called with each summary as it arrives.
        model_type, horizon: retrain only the stale keys of this model type / horizon.

    Each summary carries ``replaces_model_id`` (the newest model before retraining) and
    ``previous_age_days``. :func:`stale_models` lists the keys without training them. When
    nothing is retrained, the result's ``reason`` says why.
    """
    settings = resolve_settings(config)
    reg = registry if registry is not None else ModelRegistry()
    age = older_than if older_than is not None else f"{settings.retrain.older_than_days}d"
    every_stale = stale_models(age, reg, settings, now=now)
    stale = [
        s
        for s in every_stale
        if (model_type is None or s.model_type == model_type)
        and (horizon is None or s.horizon == horizon)
    ]
    if not stale:
        return RetrainedKeys(
            reason=_nothing_to_retrain(reg, age, every_stale, model_type, horizon, now=now)
        )
    # a global model's keys share one artifact: they are retrained together (retrain_global)
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
    return RetrainedKeys(
        r.with_fields(replaces_model_id=s.newest_model_id, previous_age_days=round(s.age_days, 2))
        for s, r in zip(stale, results, strict=True)
    )


def retrain_job(
    crypto_id: str | None = None,
    model_type: str | None = None,
    horizon: int | None = None,
    older_than_days: float | None = None,
    registry: Any = None,
) -> TrainingSummary | RetrainedKeys:
    """The service's ``POST /v1/retrain`` job (``serving.app.RetrainJob``).

    With ``crypto_id``: train that key now (``model_type`` default lightgbm, ``horizon`` default
    1) with ``train_model``, or with ``train_distributions`` when ``model_type`` is
    :data:`~cryptoforecast.registry.DISTRIBUTION`. Without: :func:`retrain_stale` retrains every tracked key
    whose newest model is older than ``older_than_days`` (default from config), of ``model_type``
    and ``horizon`` when given; when none is, the result's ``reason`` says why. Both go through
    the promotion gate: a new model reaches production only if it beats naive.
    """
    if crypto_id is not None and model_type == DISTRIBUTION:
        return train_distributions(crypto_id, horizon or 1, registry=registry).summary()
    if crypto_id is not None:
        model = train_model(
            crypto_id=crypto_id,
            model_type=model_type or "lightgbm",
            horizon=horizon or 1,
            save_model=True,
            registry=registry,
        )
        return summarise_model(model)
    return retrain_stale(  # a number: days
        older_than=older_than_days, registry=registry, model_type=model_type, horizon=horizon
    )


class StaleKey(Protocol):
    """What :func:`retrain_global` reads of a key due for retraining
    (:class:`StaleModel` is one)."""

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
