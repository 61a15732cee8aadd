"""Background retraining for ``POST /v1/retrain``: one worker thread, state held by the app.

At most :data:`MAX_JOBS` jobs are kept: a new job makes room by forgetting the oldest finished
one, and while all of them are queued or running a new one is refused (:class:`JobQueueFull`,
``503``), so a client submitting in a loop cannot grow the service's memory or queue without bound.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptoforecast.exceptions import CryptoForecastError
from cryptoforecast.redaction import redact

__all__ = ["MAX_JOBS", "JobQueueFull", "Jobs", "RetrainFn", "RetrainJob"]

MAX_JOBS = 200
_FINISHED = ("done", "failed")


class JobQueueFull(CryptoForecastError):
    """:data:`MAX_JOBS` retrain jobs are queued or running: none can be forgotten for a new one."""


class RetrainJob(Protocol):
    """What ``POST /v1/retrain`` runs in the background. The training layer implements it
    (``cryptoforecast.training.jobs.retrain_job``) and the top layer injects it
    (``cryptoforecast serve``), so the service never imports training. A result with a
    ``reason`` string (a retraining that retrained nothing says why) has it copied to the job's
    ``reason``."""

    def __call__(
        self,
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
        older_than_days: float | None = None,
        registry: Any = None,
    ) -> Any: ...


RetrainFn = RetrainJob


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
            # why a job that ran retrained nothing (the retrain job's ``reason``), else None
            "reason": None,
            "error": None,
            "submitted_at": datetime.now(UTC).isoformat(),
        }
        with self.lock:
            self._make_room()
            self.jobs[job_id] = job

        def run() -> None:
            job["status"] = "running"
            try:
                value = fn()
                job["result"] = _jsonable(value)
                reason = getattr(value, "reason", None)
                job["reason"] = reason if isinstance(reason, str) else None
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

    def _make_room(self) -> None:
        """Forget the oldest finished jobs until a new one fits (the lock is held)."""
        excess = len(self.jobs) - MAX_JOBS + 1
        if excess <= 0:
            return
        finished = [k for k, j in self.jobs.items() if j["status"] in _FINISHED]
        if len(finished) < excess:
            raise JobQueueFull(
                f"the service keeps at most {MAX_JOBS} retrain jobs and all of them are queued "
                "or running; try again once one has finished (GET /v1/retrain/{job_id} says "
                "when)"
            )
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
