"""Load test of the prediction service: a real uvicorn server on 127.0.0.1, bounded load.

What it does (in a temporary ``$CRYPTOFORECAST_HOME``, nothing else touched):

1. fits a LightGBM model for bitcoin h=1 on the embedded snapshot (config hyperparameters) and
   registers it as production (a latency benchmark: the promotion gate is not the point here);
2. times the uncached forecast path in process (candles -> build_features -> LightGBM), no HTTP;
3. starts ``cryptoforecast serve`` twice in a subprocess: with the 300 s cache (cached mix: every
   request after the first is a cache hit) and with ``CRYPTOFORECAST_CACHE__TTL_SECONDS=0``
   (uncached mix: every request builds features, runs the model and appends to the ledger);
4. for each, sends requests sequentially (service latency) and then at concurrency 50 (load),
   each phase stopped by a hard time limit, and prints throughput, p50/p99 and errors.

Run: ``.venv/bin/python benchmarks/load_test.py [--requests 5000] [--uncached-requests 1000]
[--concurrency 50] [--time-limit 120] [--workers 1]``; ``--workers 2`` serves with two uvicorn
worker processes (``serve --workers 2``), each with its own forecast cache. It stops by itself and kills only the server it started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def setup_model() -> int:
    """Fit and register a production LightGBM model for bitcoin h=1; return its id."""
    from cryptoforecast.config import load_config
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features, make_target
    from cryptoforecast.models import make_forecaster
    from cryptoforecast.registry import ModelRegistry

    candles = load_ohlcv("bitcoin")
    X, y = build_features(candles), make_target(candles, 1)
    keep = X.notna().all(axis=1) & y.notna()
    params = load_config().model_params("lightgbm")
    model = make_forecaster("lightgbm", horizon=1, **params).fit(
        X.loc[keep].iloc[-1095:], y.loc[keep].iloc[-1095:]
    )
    reg = ModelRegistry()
    path = reg.new_artifact_dir("bitcoin", "lightgbm", 1)
    model.save_model(path)
    model_id = reg.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        horizon=1,
        model_path=path,
        metrics={},
        config={"note": "load-test model"},
        status="production",
        force=True,
        reason="load test",
    )
    reg.close()
    return int(model_id)


def in_process_latency(n: int = 200) -> tuple[float, float]:
    """p50/p99 (ms) of the uncached path in process: candles + features + LightGBM."""
    from cryptoforecast.serving import Predictor

    pred = Predictor(cache_ttl=0, record=False)
    f = pred.predict("bitcoin")
    assert f.source == "model" and f.model_type == "lightgbm", f
    times = []
    for _ in range(n):
        t = time.perf_counter()
        pred.predict("bitcoin")
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 50), percentile(times, 99)


class Server:
    """``cryptoforecast serve`` in a subprocess on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-c",
            "from cryptoforecast.cli import main; raise SystemExit(main())",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ]
        self.proc = subprocess.Popen(cmd, env=env)

    def wait_ready(self, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str
) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive GET on an open connection: (status, body)."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_load(
    url: str, path: str, n: int, concurrency: int, time_limit: float
) -> dict[str, Any]:
    """Send up to ``n`` GETs from ``concurrency`` keep-alive connections; stop at ``time_limit`` s.

    A minimal asyncio HTTP/1.1 client (one connection per worker), so the load generator costs
    far less CPU than the server it measures on the same machine.
    """
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    errors = 0
    sources: dict[str, int] = {}
    cached = 0
    sent = 0
    start = time.perf_counter()
    deadline = start + time_limit

    async def worker() -> None:
        nonlocal sent, errors, cached
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while sent < n and time.perf_counter() < deadline:
                sent += 1
                t = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(
                        _get(reader, writer, f"{host}:{port}", path), 30
                    )
                    ok = status == 200
                    if ok:
                        data = json.loads(body)
                        sources[data["source"]] = sources.get(data["source"], 0) + 1
                        cached += bool(data["cached"])
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                latencies.append((time.perf_counter() - t) * 1000)
                errors += not ok
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(latencies) / elapsed if elapsed else float("nan"),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
        "cached": cached,
        "sources": sources,
        "stopped_by_time_limit": len(latencies) < n,
    }


def report(name: str, res: dict[str, Any]) -> None:
    cut = " (stopped by the time limit)" if res["stopped_by_time_limit"] else ""
    print(
        f"  {name:<28} {res['requests']:>6} req in {res['seconds']:6.1f} s = "
        f"{res['rps']:7.1f} req/s | "
        f"p50 {res['p50']:7.2f} ms  p99 {res['p99']:7.2f} ms | errors {res['errors']} | "
        f"cached {res['cached']} | sources {res['sources']}{cut}"
    )


def scenario(
    label: str, env: dict[str, str], n: int, concurrency: int, time_limit: float, workers: int = 1
) -> None:
    server = Server(env, workers)
    try:
        server.wait_ready()
        path = "/v1/forecast/bitcoin?horizon=1"
        # warm-up: model load and first cache fill (in every worker: one connection each)
        asyncio.run(run_load(server.url, path, 20 * workers, workers, time_limit))
        print(f"{label}:")
        report(
            "sequential (concurrency 1)",
            asyncio.run(run_load(server.url, path, min(500, n), 1, time_limit)),
        )
        report(
            f"load (concurrency {concurrency})",
            asyncio.run(run_load(server.url, path, n, concurrency, time_limit)),
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=5000, help="requests in the cached load phase"
    )
    parser.add_argument(
        "--uncached-requests", type=int, default=1000, help="requests in the uncached load phase"
    )
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="hard limit per phase, seconds"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cf-loadtest-") as home:
        os.environ["CRYPTOFORECAST_HOME"] = home
        for var in (
            "CRYPTOFORECAST_REGISTRY_URL",
            "CRYPTOFORECAST_LEDGER_URL",
            "CRYPTOFORECAST_CONFIG",
        ):
            os.environ.pop(var, None)
        t = time.perf_counter()
        model_id = setup_model()
        print(
            f"LightGBM production model {model_id} for bitcoin h=1 fitted and registered "
            f"in {time.perf_counter() - t:.1f} s"
        )
        p50, p99 = in_process_latency()
        print(
            "in process, uncached (candles + build_features + LightGBM, no HTTP, no ledger): "
            f"p50 {p50:.2f} ms  p99 {p99:.2f} ms"
        )
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        print(f"server processes (uvicorn workers): {args.workers}")
        scenario(
            "cached mix (300 s cache, one hot key)",
            env,
            args.requests,
            args.concurrency,
            args.time_limit,
            args.workers,
        )
        scenario(
            "uncached mix (cache off: features + LightGBM + ledger insert per request)",
            dict(env, CRYPTOFORECAST_CACHE__TTL_SECONDS="0"),
            args.uncached_requests,
            args.concurrency,
            args.time_limit,
            args.workers,
        )
        rows = _ledger_rows(Path(home))
        print(f"ledger rows written: {rows}")


def _ledger_rows(home: Path) -> int:
    from cryptoforecast.serving import Ledger

    ledger = Ledger(f"sqlite:///{home / 'ledger.db'}")
    try:
        return len(ledger)
    finally:
        ledger.dispose()


if __name__ == "__main__":
    main()
