"""The background jobs' status file, ``<candle cache>/.service-jobs.json``, read by every worker.

Another process writes it, so a worker reads it as untrusted input: a damaged, foreign, huge or
special file is a status "unknown" (``/healthz`` degraded with a reason, ``/metrics`` without
the jobs' series), never a 500 or a hang; and job names in metrics come only from the jobs this
service runs, so a file naming 5,000 jobs cannot make 5,000 series.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving.app import create_app
from cryptoforecast.serving.background import MAX_STATUS_BYTES, BackgroundJobs, ScheduledJob

from .conftest import SyncASGIClient

NOW = datetime(2025, 10, 1, 12, tzinfo=UTC).isoformat()


def job_counters(runs: int = 3, failures: int = 1) -> dict[str, Any]:
    return {
        "every_seconds": 3600.0,
        "runs": runs,
        "failures": failures,
        "last_error": None,
        "last_finished_at": NOW,
    }


def leader_status(**changes: Any) -> dict[str, Any]:
    """A status as a leading process publishes it."""
    status: dict[str, Any] = {
        "pid": 4242,
        "running": True,
        "updated_at": NOW,
        "refresher": {
            "source": "binance",
            "interval": "1d",
            "runs": 5,
            "failures": 1,
            "candles_added": 12,
            "last_success_at": NOW,
            "last_run": None,
        },
        "jobs": {"retrain": job_counters()},
    }
    status.update(changes)
    return status


@pytest.fixture
def follower(tmp_path: Path) -> BackgroundJobs:
    """The jobs of a worker that does not lead (never started): it reads the shared file."""
    job = ScheduledJob("retrain", lambda: [], every_seconds=3600)
    return BackgroundJobs(tmp_path, jobs=[job])


@pytest.fixture
def client(registry: Any, follower: BackgroundJobs) -> SyncASGIClient:
    return SyncASGIClient(
        create_app(load_config(), registry=registry, background=lambda p: follower)
    )


def metric_lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_a_valid_status_of_the_leader_is_shown_and_counted(
    client: SyncASGIClient, follower: BackgroundJobs
) -> None:
    follower.status_path.write_text(json.dumps(leader_status()))
    health = client.get("/healthz").json()
    assert health["background"]["leader"]["refresher"]["runs"] == 5
    assert health["background"]["leader"]["jobs"] == {"retrain": job_counters()}
    assert health["background"]["problems"] == []
    text = client.get("/metrics").text
    assert metric_lines(text, "cryptoforecast_candle_refresh_runs_total ") == [
        "cryptoforecast_candle_refresh_runs_total 5.0"
    ]
    assert metric_lines(text, "cryptoforecast_scheduled_job_runs_total") == [
        'cryptoforecast_scheduled_job_runs_total{job="retrain"} 3.0'
    ]


CORRUPT: dict[str, bytes] = {
    "not JSON": b'{"pid": 1, "running": tr',
    "not UTF-8": b"\xff\xfe{\x00}",
    "a list": b"[1, 2]",
    "a string": b'"leader"',
    "a refresher that is a string": json.dumps(leader_status(refresher="x")).encode(),
    "jobs that are a list": json.dumps(leader_status(jobs=["retrain"])).encode(),
    "a job that is a number": json.dumps(leader_status(jobs={"retrain": 5})).encode(),
    "counts that are words": json.dumps(
        leader_status(refresher={**leader_status()["refresher"], "runs": "many"})
    ).encode(),
    "a negative count": json.dumps(leader_status(jobs={"retrain": job_counters(runs=-1)})).encode(),
    "a count past any float": json.dumps(
        leader_status(jobs={"retrain": job_counters(runs=10**400)})
    ).encode(),
    "a time that is no time": json.dumps(
        leader_status(refresher={**leader_status()["refresher"], "last_success_at": "yesterday"})
    ).encode(),
    "a time no clock can reach": json.dumps(
        leader_status(
            refresher={**leader_status()["refresher"], "last_success_at": "0001-01-01T00:00:00"}
        )
    ).encode(),
    "a note that is not a number": json.dumps(
        leader_status(
            refresher={
                **leader_status()["refresher"],
                "last_run": {"started_at": NOW, "notes": {"ledger": {"scored": float("nan")}}},
            }
        )
    ).encode(),
    "an infinite period": json.dumps(leader_status()).replace("3600.0", "Infinity").encode(),
}


@pytest.mark.parametrize("content", list(CORRUPT.values()), ids=list(CORRUPT))
def test_a_corrupt_status_file_is_unknown_not_a_500(
    client: SyncASGIClient, follower: BackgroundJobs, content: bytes
) -> None:
    follower.status_path.write_bytes(content)
    r = client.get("/healthz")
    assert r.status_code == 200, r.text
    health = r.json()
    assert health["status"] == "degraded"
    assert health["background"]["leader"] is None
    (problem,) = health["background"]["problems"]
    assert "status file" in problem and "unreadable" in problem
    assert str(follower.directory) not in r.text
    m = client.get("/metrics")
    assert m.status_code == 200
    assert not metric_lines(m.text, "cryptoforecast_candle_refresh_")  # skipped, not zero
    assert not metric_lines(m.text, "cryptoforecast_scheduled_job_runs_total{")


def test_a_huge_status_file_is_not_read_whole(
    client: SyncASGIClient, follower: BackgroundJobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps(leader_status()).encode()
    follower.status_path.write_bytes(body[:-1] + b" " * (MAX_STATUS_BYTES + 1) + b"}")
    reads: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", counting_read)
    health = client.get("/healthz").json()
    assert health["status"] == "degraded" and health["background"]["leader"] is None
    (problem,) = health["background"]["problems"]
    assert "larger than" in problem
    assert reads and max(reads) <= MAX_STATUS_BYTES + 1


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_status_path_that_is_no_regular_file_neither_hangs_nor_fails(
    client: SyncASGIClient, follower: BackgroundJobs, kind: str
) -> None:
    path = follower.status_path
    follower.directory.mkdir(parents=True, exist_ok=True)
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    answers: list[Any] = []
    call = threading.Thread(target=lambda: answers.append(client.get("/healthz")), daemon=True)
    call.start()
    call.join(timeout=20)
    if call.is_alive() and kind == "fifo":  # unblock the reader before failing
        with open(path, "wb"):
            pass
    assert answers, "/healthz hung on the status file"
    (r,) = answers
    assert r.status_code == 200
    assert r.json()["status"] == "degraded" and r.json()["background"]["leader"] is None


def test_job_names_in_metrics_come_from_the_jobs_this_service_runs(
    client: SyncASGIClient, follower: BackgroundJobs
) -> None:
    jobs = {f"job{i}": job_counters() for i in range(5000)} | {"retrain": job_counters(runs=7)}
    follower.status_path.write_text(json.dumps(leader_status(jobs=jobs)))
    text = client.get("/metrics").text
    assert metric_lines(text, "cryptoforecast_scheduled_job_runs_total{") == [
        'cryptoforecast_scheduled_job_runs_total{job="retrain"} 7.0'
    ]
    assert len(metric_lines(text, "cryptoforecast_scheduled_job_failures_total{")) == 1
    health = client.get("/healthz").json()
    assert list(health["background"]["leader"]["jobs"]) == ["retrain"]


def test_a_status_file_with_unknown_jobs_only_counts_nothing(
    client: SyncASGIClient, follower: BackgroundJobs
) -> None:
    follower.status_path.write_text(json.dumps(leader_status(jobs={"évil\n": job_counters()})))
    text = client.get("/metrics").text
    assert not metric_lines(text, "cryptoforecast_scheduled_job_runs_total{")
