"""The service's background jobs, run once per candle cache however many server processes run.

:class:`BackgroundJobs` holds the candle refresher and the scheduled retraining. With
``serve --workers N`` every worker process builds one, but only the one that takes the file lock
``<candle cache>/.service-jobs.lock`` runs them; the others retry every ``lock_retry_seconds`` and
take over if the holder dies (the operating system releases a dead process's lock). The holder
writes its counters to ``.service-jobs.json`` beside the lock (atomically) after each job, so
``/healthz`` and ``/metrics`` of every worker report the same figures.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from cryptoforecast.data.cache import atomic_write_bytes
from cryptoforecast.redaction import redact
from cryptoforecast.serving.failures import public_reason
from cryptoforecast.serving.refresher import CandleRefresher

__all__ = ["BackgroundJobs", "JobsCollector", "ScheduledJob"]

log = logging.getLogger(__name__)

#: the longest period a job may have: a year (``threading.Event.wait`` refuses far longer ones)
_LONGEST_WAIT = 365 * 86_400.0


class ScheduledJob:
    """``fn`` every ``every_seconds`` (first run one period after start); failures counted."""

    def __init__(self, name: str, fn: Callable[[], Any], every_seconds: float) -> None:
        if not 0 < every_seconds <= _LONGEST_WAIT:  # False for NaN too
            raise ValueError(
                f"every_seconds must be positive and at most {_LONGEST_WAIT:g} (a year), got "
                f"{every_seconds!r}"
            )
        self.name = name
        self.fn = fn
        self.every_seconds = float(every_seconds)
        self.runs = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_finished_at: str | None = None

    def run(self, stop: threading.Event, on_done: Callable[[], None]) -> None:
        while not stop.wait(self.every_seconds):
            try:
                result = self.fn()
                self.last_error = None
                log.info("scheduled job %s done: %s", self.name, _summary(result))
            except Exception as exc:
                self.failures += 1
                self.last_error = public_reason(exc)  # shown by /healthz: the kind only
                log.warning(
                    "scheduled job %s failed: %s: %s", self.name, type(exc).__name__, redact(exc)
                )
            self.runs += 1
            self.last_finished_at = datetime.now(UTC).isoformat()
            on_done()

    def status(self) -> dict[str, Any]:
        return {
            "every_seconds": self.every_seconds,
            "runs": self.runs,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_finished_at": self.last_finished_at,
        }


def _summary(result: Any) -> str:
    return f"{len(result)} item(s)" if isinstance(result, list) else type(result).__name__


class BackgroundJobs:
    """The refresher and scheduled jobs of one candle cache, behind its file lock.

    Args:
        directory: where the lock and status files live (the candle cache root).
        refresher: the candle refresher (``None``: no live source, nothing to refresh).
        jobs: scheduled jobs (e.g. stale-model retraining).
        lock_retry_seconds: how often a process without the lock tries to take it.
    """

    def __init__(
        self,
        directory: str | Path,
        refresher: CandleRefresher | None = None,
        jobs: list[ScheduledJob] | None = None,
        lock_retry_seconds: float = 60.0,
    ) -> None:
        self.directory = Path(directory)
        self.refresher = refresher
        self.jobs = list(jobs or [])
        self.lock_retry_seconds = float(lock_retry_seconds)
        self.lock_path = self.directory / ".service-jobs.lock"
        self.status_path = self.directory / ".service-jobs.json"
        self._lock = FileLock(str(self.lock_path), timeout=0, thread_local=False)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._write_lock = threading.Lock()
        self.leader = False

    @property
    def empty(self) -> bool:
        return self.refresher is None and not self.jobs

    def start(self) -> None:
        """Start trying to take the lock in the background (returns at once)."""
        if self.empty or self._threads:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._spawn("service-jobs-lock", self._lead)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _lead(self) -> None:
        while not self._stop.is_set():
            try:
                self._lock.acquire()
            except Timeout:
                self._stop.wait(self.lock_retry_seconds)
                continue
            break
        if self._stop.is_set():
            return
        self.leader = True
        log.info("background jobs run in process %d (lock %s)", os.getpid(), self.lock_path)
        self.write_status()
        if self.refresher is not None:
            refresher = self.refresher
            user_hook = refresher.after_run

            def after_run(run: Any) -> None:
                try:
                    if user_hook is not None:
                        user_hook(run)
                finally:
                    self.write_status()

            refresher.after_run = after_run
            self._spawn("candle-refresher", lambda: refresher.run(self._stop))
        for job in self.jobs:
            self._spawn(f"job-{job.name}", self._runner(job))

    def _runner(self, job: ScheduledJob) -> Callable[[], None]:
        return lambda: job.run(self._stop, self.write_status)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every thread and release the lock."""
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        if self.leader:
            self.write_status()  # "running": false until another process takes over
            self._lock.release()
            self.leader = False

    def local_status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "running": self.leader and not self._stop.is_set(),
            "updated_at": datetime.now(UTC).isoformat(),
            "refresher": self.refresher.status() if self.refresher is not None else None,
            "jobs": {job.name: job.status() for job in self.jobs},
        }

    def write_status(self) -> None:
        """Publish this (leading) process's counters for every worker to read."""
        with self._write_lock:
            payload = json.dumps(self.local_status(), default=str).encode()
            try:
                atomic_write_bytes(self.status_path, payload)
            except OSError as exc:
                log.warning("cannot write %s: %s", self.status_path, exc)

    def status(self) -> dict[str, Any]:
        """What every worker reports: the leader's published status, and whether it is us."""
        if self.leader:
            shared: dict[str, Any] | None = self.local_status()
        else:
            try:
                shared = json.loads(self.status_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                shared = None
        return {"this_process": os.getpid(), "leader_here": self.leader, "leader": shared}


class JobsCollector:
    """Prometheus collector of the background jobs' counters (read from the shared status)."""

    def __init__(self, jobs: BackgroundJobs) -> None:
        self.jobs = jobs

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        leader = self.jobs.status()["leader"] or {}
        ref = leader.get("refresher") or {}
        yield CounterMetricFamily(
            "cryptoforecast_candle_refresh_runs", "candle refresher runs", value=ref.get("runs", 0)
        )
        yield CounterMetricFamily(
            "cryptoforecast_candle_refresh_failures",
            "candle refresher runs with at least one failed series",
            value=ref.get("failures", 0),
        )
        yield CounterMetricFamily(
            "cryptoforecast_candle_refresh_candles_added",
            "candles added to the cache by the refresher",
            value=ref.get("candles_added", 0),
        )
        last = ref.get("last_success_at")
        yield GaugeMetricFamily(
            "cryptoforecast_candle_refresh_last_success_timestamp_seconds",
            "Unix time of the last refresh without failures (0: none yet)",
            value=datetime.fromisoformat(last).timestamp() if last else 0.0,
        )
        runs = CounterMetricFamily(
            "cryptoforecast_scheduled_job_runs", "scheduled job runs", labels=["job"]
        )
        fails = CounterMetricFamily(
            "cryptoforecast_scheduled_job_failures", "failed scheduled job runs", labels=["job"]
        )
        for name, job in (leader.get("jobs") or {}).items():
            runs.add_metric([name], job.get("runs", 0))
            fails.add_metric([name], job.get("failures", 0))
        yield runs
        yield fails
