"""The candle refresher and the background jobs: schedule, failures, one runner per cache."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.cli.app_factory import scheduled_retraining
from cryptoforecast.config import load_config
from cryptoforecast.data import CandleCache
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.serving.background import BackgroundJobs, ScheduledJob
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.refresher import CandleRefresher, next_candle_close
from cryptoforecast.serving.service import build_background, create_service

from ..live_servers import BINANCE_KLINES_PATH, fail_next, shared_candles, use_binance_server
from .conftest import SyncASGIClient, Trained


class OffsetClock:
    """Real time moved to start at ``start`` (so waits computed from it really elapse)."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def wait_for(condition: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_next_candle_close_is_the_next_boundary_in_utc() -> None:
    t = datetime(2025, 10, 1, 13, 5, tzinfo=UTC)
    assert next_candle_close(t, "1d") == datetime(2025, 10, 2, tzinfo=UTC)
    assert next_candle_close(t, "4h") == datetime(2025, 10, 1, 16, tzinfo=UTC)
    midnight = datetime(2025, 10, 2, tzinfo=UTC)
    assert next_candle_close(midnight, "1d") == datetime(2025, 10, 3, tzinfo=UTC)


def test_next_run_waits_for_the_close_plus_delay_and_jitter_or_backs_off() -> None:
    ref = CandleRefresher(
        "binance", "1d", delay_seconds=30, jitter_seconds=10, retry_seconds=60, rng=random.Random(1)
    )
    now = datetime(2025, 10, 1, 13, 5, tzinfo=UTC)
    close = datetime(2025, 10, 2, tzinfo=UTC)
    runs = [ref.next_run_at(now) for _ in range(50)]
    assert all(close + timedelta(seconds=30) <= r <= close + timedelta(seconds=40) for r in runs)
    assert len(set(runs)) > 1  # jittered
    ref._consecutive_failures = 1
    assert ref.next_run_at(now) == now + timedelta(seconds=60)
    ref._consecutive_failures = 3
    assert ref.next_run_at(now) == now + timedelta(seconds=240)
    ref._consecutive_failures = 30
    assert ref.next_run_at(now) == now + timedelta(seconds=900)


def test_refresh_adds_new_candles_and_survives_failures(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-28"))
    cache = CandleCache()
    seen: list[Any] = []
    ref = CandleRefresher(
        "binance", "1d", tracked=lambda: ["BTC"], cache=cache, after_run=seen.append
    )
    first = ref.refresh_once()
    # the daily candles, and the 4h candles beside them (Binance has them)
    assert first.ok and first.added["bitcoin"] > 1000 and seen == [first]
    assert first.added["bitcoin 4h"] > 6 * 1000
    assert cache.read("binance", "bitcoin", "1d").index[-1] == pd.Timestamp("2025-09-28", tz="UTC")

    before = cache.path("binance", "bitcoin", "1d").read_bytes()
    before_4h = cache.path("binance", "bitcoin", "4h").read_bytes()
    fail_next(
        httpserver, BINANCE_KLINES_PATH, status=400, body={"code": -1100, "msg": "bad"}, times=2
    )
    failed = ref.refresh_once()
    assert not failed.ok and ref.failures == 1
    assert set(failed.errors) == {"bitcoin", "bitcoin 4h"}
    assert cache.path("binance", "bitcoin", "1d").read_bytes() == before  # untouched
    assert cache.path("binance", "bitcoin", "4h").read_bytes() == before_4h

    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-30"))
    third = ref.refresh_once()
    assert third.ok and third.added == {"bitcoin": 2, "bitcoin 4h": 0}
    status = ref.status()
    assert (status["runs"], status["failures"], status["candles_added"]) == (
        3,
        1,
        first.added["bitcoin"] + first.added["bitcoin 4h"] + 2,
    )


def test_only_one_process_runs_the_jobs_and_another_takes_over(tmp_path: Any) -> None:
    """Two job runners on one cache (as two server workers would be): one runs the jobs; when
    it stops, the other takes the lock and runs them."""
    calls: list[str] = []

    def runner(name: str) -> BackgroundJobs:
        job = ScheduledJob("tick", lambda: calls.append(name), every_seconds=0.05)
        return BackgroundJobs(tmp_path, jobs=[job], lock_retry_seconds=0.1)

    a, b = runner("a"), runner("b")
    a.start()
    assert wait_for(lambda: a.leader)
    b.start()
    assert wait_for(lambda: len(calls) >= 5)
    assert not b.leader and set(calls) == {"a"}
    assert b.status()["leader"]["pid"] == a.status()["this_process"]
    assert b.status()["leader"]["jobs"]["tick"]["runs"] >= 1  # read from the shared status file
    assert b.status()["leader"]["running"] is True
    a.stop()
    assert wait_for(lambda: b.leader, timeout=5)
    assert wait_for(lambda: "b" in calls)
    b.stop()
    assert not a.leader and not b.leader


def test_scheduled_retraining_is_off_by_default_and_runs_on_its_schedule(
    registry: Any,
) -> None:
    predictor = Predictor(registry=registry)
    assert build_background(load_config(), predictor).empty  # snapshot, no schedule

    done = threading.Event()
    settings = load_config(overrides={"retrain": {"schedule_every_hours": 1 / 3600}})  # 1 s
    background = build_background(settings, predictor, retrain=lambda: done.set() or [])
    (job,) = background.jobs
    assert (job.name, job.every_seconds) == ("retrain", pytest.approx(1.0))
    background.start()
    try:
        assert done.wait(20)
    finally:
        background.stop()
    assert job.runs >= 1 and job.failures == 0


def test_a_schedule_without_a_retraining_job_is_refused(registry: Any) -> None:
    """Serving never imports training: the job is handed in, and a schedule with none is an
    error naming the fix, not a service that silently never retrains."""
    predictor = Predictor(registry=registry)
    settings = load_config(overrides={"retrain": {"schedule_every_hours": 6}})
    with pytest.raises(ConfigError, match="schedule_every_hours.*no retraining job"):
        build_background(settings, predictor)


def test_the_served_app_schedules_the_training_pipeline(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cryptoforecast serve's factory wires retrain_stale, on the service's registry, into the
    schedule."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "cryptoforecast.cli.app_factory.retrain_stale", lambda **kw: calls.append(kw) or []
    )
    settings = load_config(overrides={"retrain": {"schedule_every_hours": 6}})
    predictor = Predictor(registry=registry)
    job = scheduled_retraining(settings, predictor)
    assert job() == [] and calls == [
        {
            "older_than": f"{settings.retrain.older_than_days}d",
            "registry": registry,
            "config": settings,
        }
    ]
    app = create_service(settings, schedule=scheduled_retraining, registry=registry)
    ((name, every),) = [(j.name, j.every_seconds) for j in app.state.background.jobs]
    assert (name, every) == ("retrain", 6 * 3600.0)


def test_refresh_failures_are_counted_in_metrics_and_healthz(
    registry: Any,
    btc_model: Trained,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refresher whose source keeps failing: the service still answers from its cache, and
    /metrics and /healthz count the failures."""
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-30"))
    from cryptoforecast.data import load_ohlcv

    load_ohlcv("bitcoin", source="binance")  # the cache holds the series
    fake.fail_after = len(fake.requests)  # from now on every request fails
    fake.fail_status = 400  # not retried by the client: the test needs no retry delays
    clock = OffsetClock(datetime(2025, 10, 1, 12, tzinfo=UTC))
    settings = load_config(overrides={"serving": {"refresh": {"retry_seconds": 0.2}}})
    app = create_service(settings, source="binance", registry=registry, clock=clock)
    client = SyncASGIClient(app)
    background = app.state.background
    background.start()
    try:
        assert wait_for(lambda: background.refresher.failures >= 2, timeout=60)
        assert client.get("/v1/forecast/bitcoin").json()["as_of"].startswith("2025-09-30")
        metrics = client.get("/metrics").text
        health = client.get("/healthz").json()
    finally:
        background.stop()
    failures = [
        line
        for line in metrics.splitlines()
        if line.startswith("cryptoforecast_candle_refresh_failures_total ")
    ]
    assert failures and float(failures[0].split()[1]) >= 2
    refresher = health["background"]["leader"]["refresher"]
    assert refresher["failures"] >= 2 and "bitcoin" in refresher["last_run"]["errors"]
    assert health["background"]["leader_here"] is True
    # the cached candles are not overdue yet, but the source is down: not "ok"
    assert health["status"] == "degraded"


def test_refresh_errors_shown_by_healthz_carry_no_secret_or_server_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptoforecast.exceptions import DataError

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise DataError(
            "cannot write via postgresql://cf:hunter2@db.internal/cf with api_key=abc123 "
            "to /var/lib/cryptoforecast/candles/binance/bitcoin_1d.parquet"
        )

    monkeypatch.setattr("cryptoforecast.serving.refresher.refresh_series", failing)
    run = CandleRefresher("binance", tracked=lambda: ["bitcoin"]).refresh_once()
    error = run.errors["bitcoin"]
    assert error == "market data unavailable: DataError"  # the kind only; the log has the rest
    for secret in ("hunter2", "abc123", "/var/lib/cryptoforecast", "db.internal"):
        assert secret not in error
