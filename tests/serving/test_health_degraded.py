"""``/healthz`` says "degraded", with a reason, whenever part of the service cannot work.

Each of these once answered "ok": a jobs lock the process may not take (its thread died and no
process refreshed the candles), a background thread that died, an unreadable ledger. And the
retrain queue keeps at most ``MAX_JOBS`` jobs, as SECURITY.md says.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving.app import create_app
from cryptoforecast.serving.background import BackgroundJobs, ScheduledJob
from cryptoforecast.serving.jobs import MAX_JOBS, JobQueueFull, Jobs
from cryptoforecast.serving.ledger import Ledger

from ..second_user import as_root_only, run_as_other_user, shared_home
from .conftest import SyncASGIClient

TOKEN = "t0ken-for-tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def ticking(directory: Path, calls: list[int] | None = None) -> BackgroundJobs:
    seen = calls if calls is not None else []
    job = ScheduledJob("tick", lambda: seen.append(1), every_seconds=0.05)
    return BackgroundJobs(directory, jobs=[job], lock_retry_seconds=0.05)


@pytest.fixture
def stopping() -> Iterator[list[BackgroundJobs]]:
    started: list[BackgroundJobs] = []
    yield started
    for jobs in started:
        jobs.stop()


class Health:
    """``GET /healthz`` of an app running ``background``."""

    def __init__(self, registry: Any, background: BackgroundJobs) -> None:
        app = create_app(load_config(), registry=registry, background=lambda p: background)
        self.client = SyncASGIClient(app)

    def __call__(self) -> dict[str, Any]:
        r = self.client.get("/healthz")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def degraded(self) -> bool:
        return self()["status"] == "degraded"


# -- the jobs lock ----------------------------------------------------------------------------


def test_the_jobs_lock_file_is_group_writable_under_umask_0027(
    tmp_path: Path, stopping: list[BackgroundJobs]
) -> None:
    old = os.umask(0o027)
    try:
        jobs = ticking(tmp_path)
        stopping.append(jobs)
        jobs.start()
        # the leader writes its status file just after taking the lock: wait for both, under
        # the umask being tested
        assert wait_for(lambda: jobs.leader and jobs.status_path.exists())
    finally:
        os.umask(old)
    assert stat.S_IMODE(jobs.lock_path.stat().st_mode) == 0o660
    assert stat.S_IMODE(jobs.status_path.stat().st_mode) == 0o640  # follows the umask


@as_root_only
def test_a_second_user_takes_over_the_jobs_of_a_shared_cache(
    stopping: list[BackgroundJobs],
) -> None:
    """root leads the jobs of a cache made with umask 0027, then stops; the second user of the
    group takes the lock over (its thread once died of a PermissionError). Its directory is not
    group-writable, so it cannot publish its status: that is a problem it reports."""
    with shared_home() as home:
        candles = home / "candles"
        first = ticking(candles)
        stopping.append(first)
        first.start()
        assert wait_for(lambda: first.leader)
        first.stop()
        assert stat.S_IMODE(candles.stat().st_mode) & 0o070 == 0o050  # group read only

        def second_user() -> int:
            calls: list[int] = []
            jobs = ticking(candles, calls)
            jobs.start()
            took = wait_for(lambda: jobs.leader and len(calls) >= 1, timeout=10)
            print(json.dumps({"leader": took, "problems": jobs.status().get("problems")}))
            jobs.stop()
            return 0

        code, out, err = run_as_other_user(second_user, home)
    assert code == 0, err
    seen = json.loads(out)
    assert seen["leader"] is True, err
    (problem,) = seen["problems"]
    assert "cannot write their status file" in problem and "group write" in problem


def test_a_jobs_lock_this_user_may_not_take_degrades_healthz_and_is_retried(
    registry: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stopping: list[BackgroundJobs],
) -> None:
    """The second user of a shared cache whose jobs lock it may not open: the lock thread once
    died of the PermissionError while /healthz said ok with no leader."""
    real_open = os.open
    denied = threading.Event()
    denied.set()

    def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if denied.is_set() and str(path).endswith(".service-jobs.lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return int(real_open(path, flags, *args, **kwargs))

    monkeypatch.setattr(os, "open", fake_open)
    calls: list[int] = []
    jobs = ticking(tmp_path, calls)
    stopping.append(jobs)
    health = Health(registry, jobs)
    jobs.start()
    assert wait_for(health.degraded, timeout=5)
    time.sleep(0.2)  # several retries
    (lock_thread,) = jobs._threads
    assert lock_thread.is_alive()  # still trying, not dead
    answer = health()
    assert answer["status"] == "degraded" and not calls
    (problem,) = answer["background"]["problems"]
    assert "lock" in problem and "permission denied" in problem and "group write" in problem
    assert str(tmp_path) not in str(answer)

    denied.clear()  # the operator fixed the permissions: the next retry takes the lock
    assert wait_for(lambda: jobs.leader) and wait_for(lambda: len(calls) >= 1)
    answer = health()
    assert answer["background"]["problems"] == [] and answer["status"] == "ok"


def test_a_background_thread_that_dies_degrades_healthz_of_every_worker(
    registry: Any, tmp_path: Path, stopping: list[BackgroundJobs]
) -> None:
    leader, follower = ticking(tmp_path), ticking(tmp_path)
    stopping += [leader, follower]
    (job,) = leader.jobs

    def dies(stop: threading.Event, on_done: Callable[[], None]) -> None:
        raise RuntimeError("broken at /srv/secret/place")

    job.run = dies  # type: ignore[method-assign]
    leader.start()
    assert wait_for(lambda: leader.leader)
    follower.start()
    for jobs in (leader, follower):
        health = Health(registry, jobs)
        assert wait_for(health.degraded, timeout=5)
        (problem,) = health()["background"]["problems"]
        assert "job-tick" in problem and "RuntimeError" in problem
        assert "/srv/secret" not in str(health())


# -- the ledger -------------------------------------------------------------------------------


def test_an_unreadable_ledger_degrades_healthz(registry: Any, tmp_path: Path) -> None:
    broken = tmp_path / "ledger.db"
    broken.write_bytes(b"this is no database, " * 200)
    app = create_app(load_config(), registry=registry, ledger=Ledger(f"sqlite:///{broken}"))
    r = SyncASGIClient(app).get("/healthz")
    assert r.status_code == 200
    health = r.json()
    assert health["status"] == "degraded"
    assert health["ledger_error"].startswith("ledger unavailable")
    assert str(tmp_path) not in r.text and "sqlite" not in r.text


def test_a_readable_ledger_leaves_healthz_ok(registry: Any, tmp_path: Path) -> None:
    app = create_app(
        load_config(), registry=registry, ledger=Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    )
    health = SyncASGIClient(app).get("/healthz").json()
    assert "ledger_error" not in health
    assert health["status"] == "ok"


# -- the retrain queue ------------------------------------------------------------------------


@pytest.fixture
def jobs() -> Iterator[Jobs]:
    kept = Jobs()
    yield kept
    kept.shutdown()


def test_the_retrain_queue_keeps_at_most_max_jobs(jobs: Jobs) -> None:
    assert MAX_JOBS == 200  # as SECURITY.md says
    release = threading.Event()
    try:
        ids = [jobs.submit(release.wait, {"n": i})["job_id"] for i in range(MAX_JOBS)]
        with pytest.raises(JobQueueFull, match=f"{MAX_JOBS} retrain jobs"):
            jobs.submit(release.wait, {"n": "one too many"})
        assert len(jobs.jobs) == MAX_JOBS
    finally:
        release.set()
    assert wait_for(lambda: all(jobs.get(i)["status"] == "done" for i in ids))  # type: ignore[index]
    new = jobs.submit(lambda: "fresh", {"n": "new"})
    assert len(jobs.jobs) == MAX_JOBS  # the oldest finished job made room
    assert jobs.get(ids[0]) is None and jobs.get(ids[1]) is not None
    assert jobs.get(new["job_id"]) is not None


def test_a_full_retrain_queue_answers_503_with_the_reason(registry: Any) -> None:
    release = threading.Event()
    app = create_app(
        load_config(),
        registry=registry,
        admin_token=TOKEN,
        retrain=lambda **kwargs: release.wait(),
    )
    client = SyncASGIClient(app)
    try:
        for _ in range(MAX_JOBS):
            assert client.post("/v1/retrain", headers=ADMIN).status_code == 202
        r = client.post("/v1/retrain", headers=ADMIN)
        assert r.status_code == 503
        assert f"{MAX_JOBS} retrain jobs" in r.json()["detail"]
        assert len(app.state.jobs.jobs) == MAX_JOBS
    finally:
        release.set()
        app.state.jobs.shutdown()
