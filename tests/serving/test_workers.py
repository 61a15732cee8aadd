"""``serve --workers 2``: two server processes, one candle refresher (the jobs lock)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.data import CandleCache, load_ohlcv

from ..live_servers import shared_candles, use_binance_server
from .conftest import free_port, stop_process


def _log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@pytest.mark.slow
def test_two_workers_run_one_refresher(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-30"))
    # cache the series and the 4h candles kept beside it: a refresh is then 1 request each
    load_ohlcv("bitcoin", source="binance")
    load_ohlcv("bitcoin", source="binance", interval="4h")
    cached = len(fake.requests)
    port = free_port()
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "cryptoforecast.cli", "serve", "--workers", "2"]
    cmd += ["--source", "binance", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while _log(log).count("Application startup complete") < 2:
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{_log(log)}"
            assert time.monotonic() < deadline, f"two workers did not start:\n{_log(log)}"
            time.sleep(0.2)
        workers = {int(p) for p in re.findall(r"Started server process \[(\d+)\]", _log(log))}
        assert len(workers) == 2 and proc.pid not in workers
        status_file = CandleCache().root / ".service-jobs.json"
        while len(fake.requests) == cached or not status_file.exists():
            assert time.monotonic() < deadline, f"no refresh happened:\n{_log(log)}"
            time.sleep(0.1)
        time.sleep(3.0)  # time for a second refresher to show itself, if there were one
        assert len(fake.requests) - cached == 2, fake.requests[cached:]
        leader = json.loads(status_file.read_text())["pid"]
        assert leader in workers
        seen: set[int] = set()
        for _ in range(20):  # new connections: both workers answer, all name the same leader
            health: dict[str, Any] = httpx.get(
                f"http://127.0.0.1:{port}/healthz", timeout=10
            ).json()
            assert health["background"]["leader"]["pid"] == leader
            assert health["background"]["leader_here"] == (
                health["background"]["this_process"] == leader
            )
            seen.add(health["background"]["this_process"])
            forecast = httpx.get(f"http://127.0.0.1:{port}/v1/forecast/bitcoin", timeout=30)
            assert forecast.status_code == 200 and forecast.json()["as_of"].startswith("2025-09-30")
        assert seen <= workers
    finally:
        stop_process(proc)


def test_serve_starts_uvicorn_on_the_app_factory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Workers import the app by factory string; the source reaches them in the environment."""
    from cryptoforecast.cli import main
    from cryptoforecast.cli.app_factory import SOURCE_ENV, app_from_env

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append((a, k)))
    monkeypatch.setenv(SOURCE_ENV, "snapshot")  # restored after the test
    assert main(["serve", "--workers", "3", "--source", "binance", "--port", "8123"]) == 0
    ((args, kwargs),) = calls
    assert args == ("cryptoforecast.cli.app_factory:app_from_env",)
    assert (kwargs["factory"], kwargs["workers"], kwargs["port"]) == (True, 3, 8123)
    assert os.environ[SOURCE_ENV] == "binance"
    app = app_from_env()
    assert app.state.predictor.source == "binance" and app.state.background.refresher is not None
    monkeypatch.setenv(SOURCE_ENV, "snapshot")
    assert app_from_env().state.background.empty  # nothing to refresh, no schedule by default

    assert main(["serve", "--workers", "0"]) == 2  # a usage error, before anything starts
    assert "'--workers'" in capsys.readouterr().err
    assert main(["serve", "--source", "nasdaq"]) == 2
    err = capsys.readouterr().err
    assert "'--source'" in err and "'nasdaq' is not a candle source" in err
