"""The service's background jobs, run once per candle cache however many server processes run.

:class:`BackgroundJobs` holds the candle refresher and the scheduled retraining. With
``serve --workers N`` every worker process builds one, but only the one that takes the file lock
``<candle cache>/.service-jobs.lock`` runs them; the others retry every ``lock_retry_seconds`` and
take over if the holder dies (the operating system releases a dead process's lock). The holder
writes its counters to ``.service-jobs.json`` beside the lock (atomically) after each job, so
``/healthz`` and ``/metrics`` of every worker report the same figures.

The lock file is shared like the cache's (:func:`~cryptoforecast.data.cache.shared_file_lock`).
What keeps the jobs from running is reported, never silent: a lock this process may not take
(it retries), a job thread that died, a status file that cannot be read. Another process writes
that file, so it is read as untrusted input: at most :data:`MAX_STATUS_BYTES`, a regular file,
validated (:class:`LeaderStatus`); anything else is an unknown status with a reason, and only
the names of the jobs this service runs are kept from it (bounded metric labels).
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from filelock import Timeout
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue

from cryptoforecast.data.cache import CACHE_SHARING_FIX, atomic_write_bytes, shared_file_lock
from cryptoforecast.redaction import redact
from cryptoforecast.serving.failures import public_reason
from cryptoforecast.serving.refresher import CandleRefresher

__all__ = [
    "MAX_STATUS_BYTES",
    "BackgroundJobs",
    "JobsCollector",
    "LeaderStatus",
    "ScheduledJob",
    "SharedStatus",
]

log = logging.getLogger(__name__)

#: the longest period a job may have: a year (``threading.Event.wait`` refuses far longer ones)
_LONGEST_WAIT = 365 * 86_400.0
#: the largest status file a worker reads (a real one is a few kilobytes)
MAX_STATUS_BYTES = 1 << 20
#: counters above this are not counts this service made (and would not fit a float exactly)
_MAX_COUNT = 2**53


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


def _iso_time(value: str) -> str:
    datetime.fromisoformat(value).timestamp()  # a ValueError is the validation error
    return value


def _finite(value: Any) -> Any:
    """``value`` (JSON) if every number in it is finite (JSON has no NaN or Infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a JSON number")
    for item in (
        value.values() if isinstance(value, dict) else (value if isinstance(value, list) else ())
    ):
        _finite(item)
    return value


IsoTime = Annotated[str, AfterValidator(_iso_time)]
Notes = Annotated[dict[str, JsonValue], AfterValidator(_finite)]
Count = Annotated[int, Field(ge=0, le=_MAX_COUNT)]


class _Status(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)


class JobCounters(_Status):
    """A scheduled job's counters (:meth:`ScheduledJob.status`)."""

    every_seconds: float = Field(gt=0)
    runs: Count = 0
    failures: Count = 0
    last_error: str | None = None
    last_finished_at: IsoTime | None = None


class RefreshRunStatus(_Status):
    """The candle refresher's last run."""

    started_at: IsoTime
    added: dict[str, Count] = {}
    errors: dict[str, str] = {}
    notes: Notes = {}


class RefresherCounters(_Status):
    """The candle refresher's counters (:meth:`CandleRefresher.status`)."""

    source: str
    interval: str
    runs: Count = 0
    failures: Count = 0
    candles_added: Count = 0
    last_success_at: IsoTime | None = None
    last_run: RefreshRunStatus | None = None


class LeaderStatus(_Status):
    """What the leading process publishes in ``.service-jobs.json``."""

    pid: int = Field(ge=0)
    running: bool
    updated_at: IsoTime
    refresher: RefresherCounters | None = None
    jobs: dict[str, JobCounters] = {}
    #: background threads of the leader that died: thread name -> the kind of error
    dead_threads: dict[str, str] = {}


@dataclass(frozen=True)
class SharedStatus:
    """The leader's status as this worker sees it: ``leader`` is None when no process has
    published one yet, or when it is unknown (``problem`` then says why)."""

    leader: LeaderStatus | None
    problem: str | None = None


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
        self._lock = shared_file_lock(self.lock_path, 0, thread_local=False)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._write_lock = threading.Lock()
        self.leader = False
        #: why this process cannot take the jobs lock (None: it leads, or another one does)
        self.election_error: str | None = None
        #: background threads of this process that died: thread name -> the kind of error
        self.dead_threads: dict[str, str] = {}
        #: why this (leading) process could not publish its status (None: it could)
        self.publish_error: str | None = None
        self._last_problem: str | None = None

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
        def guarded() -> None:
            try:
                target()
            except Exception as exc:  # reported by /healthz, never silent
                self.dead_threads[name] = type(exc).__name__
                trace = "".join(traceback.format_exception(exc))
                log.error("background thread %s stopped:\n%s", name, redact(trace))
                if self.leader:
                    self.write_status()

        thread = threading.Thread(target=guarded, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _lead(self) -> None:
        while not self._stop.is_set():
            try:
                self._lock.acquire()
            except Timeout:  # another process leads
                self.election_error = None
                self._stop.wait(self.lock_retry_seconds)
                continue
            except OSError as exc:  # e.g. this user may not open the lock file: retry
                self.election_error = self._election_failure(exc)
                self._stop.wait(self.lock_retry_seconds)
                continue
            break
        if self._stop.is_set():
            if self._lock.is_locked:  # taken as the service stopped: give it back at once
                self._lock.release()
            return
        self.election_error = None
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

    def _election_failure(self, exc: OSError) -> str:
        """Log why the jobs lock cannot be taken (once per reason); return it for /healthz."""
        kind = type(exc).__name__
        reason = f"the background jobs cannot take their lock file ({kind}); see the service log"
        if isinstance(exc, PermissionError):
            reason = (
                "the background jobs cannot take their lock file (permission denied): "
                "the service users sharing the candle cache need group write access to it"
            )
        if reason != self.election_error:
            log.error(
                "background jobs: cannot take the lock %s (%s: %s); retrying every %g s. %s",
                self.lock_path,
                kind,
                exc,
                self.lock_retry_seconds,
                CACHE_SHARING_FIX if isinstance(exc, PermissionError) else "",
            )
        return reason

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
            "dead_threads": dict(self.dead_threads),
        }

    def write_status(self) -> None:
        """Publish this (leading) process's counters for every worker to read."""
        with self._write_lock:
            payload = json.dumps(self.local_status(), default=str).encode()
            try:
                atomic_write_bytes(self.status_path, payload)
            except OSError as exc:
                reason = (
                    f"the background jobs cannot write their status file ({type(exc).__name__}); "
                    "other workers show an old status"
                )
                if isinstance(exc, PermissionError):
                    reason += ": the service users sharing the candle cache need group write on it"
                if reason != self.publish_error:
                    log.warning("cannot write %s: %s. %s", self.status_path, exc, CACHE_SHARING_FIX)
                self.publish_error = reason
            else:
                self.publish_error = None

    def shared_status(self) -> SharedStatus:
        """The leader's status: ours when we lead, else the validated status file, limited to
        the jobs this service runs (:attr:`jobs`)."""
        try:
            if self.leader:
                status = LeaderStatus.model_validate(self.local_status())
            else:
                raw = self._read_status_file()
                if raw is None:
                    return SharedStatus(None)
                status = LeaderStatus.model_validate_json(raw)
        except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            return SharedStatus(None, self._unknown_status(exc))
        self._last_problem = None
        known = {job.name for job in self.jobs}
        threads = {"service-jobs-lock", "candle-refresher"} | {f"job-{name}" for name in known}
        return SharedStatus(
            status.model_copy(
                update={
                    "jobs": {k: v for k, v in status.jobs.items() if k in known},
                    "dead_threads": {k: v for k, v in status.dead_threads.items() if k in threads},
                }
            )
        )

    def _read_status_file(self) -> bytes | None:
        """The status file's bytes (None: none yet); a special or oversized file is an error.

        Opened without blocking (a FIFO would otherwise hang the reader) and read up to one byte
        more than :data:`MAX_STATUS_BYTES`."""
        try:
            fd = os.open(self.status_path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ValueError("not a regular file")
            chunks: list[bytes] = []
            left = MAX_STATUS_BYTES + 1
            while left > 0 and (chunk := os.read(fd, left)):
                chunks.append(chunk)
                left -= len(chunk)
        finally:
            os.close(fd)
        raw = b"".join(chunks)
        if len(raw) > MAX_STATUS_BYTES:
            raise ValueError(f"larger than {MAX_STATUS_BYTES} bytes")
        return raw

    def _unknown_status(self, exc: Exception) -> str:
        """The reason /healthz gives for a status file it cannot use (logged once per reason)."""
        kind = type(exc).__name__
        detail = str(exc) if str(exc).startswith(("larger than", "not a regular")) else kind
        reason = (
            f"the background jobs' status file is unreadable ({detail}); their state is unknown. "
            "The leading worker rewrites it after its next job; see the service log"
        )
        if reason != self._last_problem:
            log.warning(
                "background jobs: cannot use the status file %s: %s",
                self.status_path,
                redact(f"{kind}: {exc}")[:500],
            )
            self._last_problem = reason
        return reason

    def problems(self, shared: SharedStatus) -> list[str]:
        """Why the background jobs are not known to run as they should (empty: nothing known)."""
        out = [e for e in (self.election_error, self.publish_error if self.leader else None) if e]
        dead = dict(self.dead_threads)
        if shared.leader is not None:
            dead.update(shared.leader.dead_threads)
        out += [
            f"the background thread {name!r} stopped ({kind}); see the service log"
            for name, kind in sorted(dead.items())
        ]
        if shared.problem is not None:
            out.append(shared.problem)
        return out

    def status(self) -> dict[str, Any]:
        """What every worker reports: the leader's published status, whether it is us, and the
        problems (``/healthz`` is degraded while there is one)."""
        shared = self.shared_status()
        return {
            "this_process": os.getpid(),
            "leader_here": self.leader,
            "leader": shared.leader.model_dump(mode="json") if shared.leader else None,
            "problems": self.problems(shared),
        }


class JobsCollector:
    """Prometheus collector of the background jobs' counters (read from the shared status)."""

    def __init__(self, jobs: BackgroundJobs) -> None:
        self.jobs = jobs

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        shared = self.jobs.shared_status()
        if shared.problem is not None:
            return  # unknown: no figures rather than made-up ones (/healthz says why)
        leader = shared.leader
        ref = leader.refresher if leader is not None else None
        yield CounterMetricFamily(
            "cryptoforecast_candle_refresh_runs",
            "candle refresher runs",
            value=ref.runs if ref else 0,
        )
        yield CounterMetricFamily(
            "cryptoforecast_candle_refresh_failures",
            "candle refresher runs with at least one failed series",
            value=ref.failures if ref else 0,
        )
        yield CounterMetricFamily(
            "cryptoforecast_candle_refresh_candles_added",
            "candles added to the cache by the refresher",
            value=ref.candles_added if ref else 0,
        )
        last = ref.last_success_at if ref else None
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
        for name, job in (leader.jobs if leader is not None else {}).items():  # known names only
            runs.add_metric([name], job.runs)
            fails.add_metric([name], job.failures)
        yield runs
        yield fails
