"""Background retraining for ``POST /v1/retrain``: one worker thread, state held by the app.

Only the newest :data:`MAX_JOBS` jobs are kept (finished ones are forgotten first), so a client
polling or submitting in a loop cannot grow the service's memory without bound.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from cryptoforecast.redaction import redact

__all__ = ["MAX_JOBS", "Jobs", "RetrainFn", "default_retrain"]

MAX_JOBS = 200
RetrainFn = Callable[..., Any]


class Jobs:
    """Background retraining jobs (one worker thread)."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self.jobs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        with self.lock:
            if self._executor is None:  # first use, or the app was started again after a stop
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrain")
            return self._executor

    def shutdown(self) -> None:
        """Stop the worker (queued jobs are cancelled); a later submit starts a new one."""
        with self.lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def submit(self, fn: Callable[[], Any], request: dict[str, Any]) -> dict[str, Any]:
        job_id = uuid.uuid4().hex
        job: dict[str, Any] = {
            "job_id": job_id,
            "status": "queued",
            "request": request,
            "result": None,
            "error": None,
            "submitted_at": datetime.now(UTC).isoformat(),
        }
        with self.lock:
            self.jobs[job_id] = job
            self._forget_old()

        def run() -> None:
            job["status"] = "running"
            try:
                job["result"] = _jsonable(fn())
                job["status"] = "done"
            except Exception as exc:
                job["error"] = redact(f"{type(exc).__name__}: {exc}")
                job["status"] = "failed"
            job["finished_at"] = datetime.now(UTC).isoformat()

        self._pool().submit(run)
        return dict(job)

    def get(self, job_id: str) -> dict[str, Any] | None:
        job = self.jobs.get(job_id)
        return dict(job) if job is not None else None

    def _forget_old(self) -> None:
        excess = len(self.jobs) - MAX_JOBS
        if excess <= 0:
            return
        finished = [k for k, j in self.jobs.items() if j["status"] in ("done", "failed")]
        for key in finished[:excess]:
            del self.jobs[key]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    for attr in ("to_dict", "model_dump"):
        if hasattr(value, attr):
            return _jsonable(getattr(value, attr)())
    return repr(value)


def default_retrain() -> RetrainFn | None:
    """The training pipeline as the ``POST /v1/retrain`` job, or None when it is not installed.

    With ``crypto_id``: train that key now (``model_type`` default lightgbm, ``horizon`` default
    1) with ``train_model_for_crypto``. Without: ``retrain_stale`` retrains every tracked key whose
    newest model is older than ``older_than_days`` (default from config). Both go through the
    promotion gate: a new model reaches production only if it beats naive.
    """
    try:
        from cryptoforecast.training.retrain import retrain_stale
        from cryptoforecast.training.train_pipeline import train_model_for_crypto
    except ImportError:
        return None

    def run(
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
        older_than_days: float | None = None,
        registry: Any = None,
    ) -> Any:
        import asyncio

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
            return {
                "crypto_id": crypto_id,
                "model_type": model_type or "lightgbm",
                "horizon": horizon or 1,
                "model_id": getattr(model, "model_id", None),
                "version": getattr(model, "version", None),
                "status": getattr(model, "status", None),
                "metrics": getattr(model, "metrics", None),
            }
        older = f"{older_than_days}d" if older_than_days is not None else None
        results = retrain_stale(older_than=older, registry=registry)
        return [
            r
            for r in results
            if (model_type is None or r.get("model_type") == model_type)
            and (horizon is None or r.get("horizon") == horizon)
        ]

    return run
