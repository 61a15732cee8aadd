"""Server render time of the dashboard's overview for 8 coins, from warm caches.

In a temporary ``$CRYPTOFORECAST_HOME`` it fits a drift model per embedded coin (h=1, candles up
to 2025-03-31), registers each as production, builds the app and requests ``/`` once (cold:
every forecast computed, 4 horizons x 8 coins, the fallback fitted for the horizons no model
serves). Then it times ``--repeat`` further requests in process through the ASGI interface (no
socket: the figure is the server's work, from request to the last byte of the page) while the
forecasts are in the Predictor's cache: the "warm caches" of the aim (< 300 ms). ``/accuracy``
and ``/models`` are timed the same way for reference, with a ledger of the forecasts the overview
made.

Run: ``.venv/bin/python benchmarks/bench_dashboard.py [--repeat 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cf-bench-dashboard-") as home:
        os.environ["CRYPTOFORECAST_HOME"] = home
        os.environ.pop("CRYPTOFORECAST_REGISTRY_URL", None)
        run(args.repeat)


def run(repeat: int) -> None:
    import httpx

    from cryptoforecast.assets import snapshot_assets
    from cryptoforecast.config import load_config
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features, make_target
    from cryptoforecast.models import make_forecaster
    from cryptoforecast.registry import ModelRegistry
    from cryptoforecast.serving import create_app

    registry = ModelRegistry()
    coins = [a.id for a in snapshot_assets()]
    t0 = time.perf_counter()
    for cid in coins:
        candles = load_ohlcv(cid, end="2025-03-31")
        X, y = build_features(candles), make_target(candles, 1)
        keep = X.notna().all(axis=1) & y.notna()
        model = make_forecaster("drift", horizon=1).fit(X.loc[keep], y.loc[keep])
        path = registry.new_artifact_dir(cid, "drift", 1)
        model.save_model(path)
        registry.register_model(
            "drift",
            crypto_id=cid,
            horizon=1,
            model_path=path,
            metrics={"mase": 0.99},
            status="production",
            force=True,
        )
    print(
        f"{len(coins)} drift models (h=1) fitted and registered in {time.perf_counter() - t0:.1f} s"
    )
    settings = load_config()
    app = create_app(settings, registry=registry)

    async def timed(client: httpx.AsyncClient, path: str) -> tuple[float, int]:
        start = time.perf_counter()
        r = await client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        r.raise_for_status()
        return elapsed, len(r.content)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            cold, size = await timed(client, "/")
            print(
                f"overview, cold (8 coins x horizons {settings.horizons}: every forecast "
                f"computed): {cold:.0f} ms, {size / 1024:.0f} KiB"
            )
            for path in ("/", "/accuracy", "/models"):
                await timed(client, path)  # warm every cache this page reads
                times = [(await timed(client, path))[0] for _ in range(repeat)]
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                print(
                    f"{path:<10} warm, {repeat} requests: p50 {statistics.median(times):7.1f} ms  "
                    f"p95 {p95:7.1f} ms  max {times[-1]:7.1f} ms"
                )

    asyncio.run(go())


if __name__ == "__main__":
    main()
