"""Serving from state: an uncached ``Predictor.predict`` beside a bare ``model.predict``.

Run: ``.venv/bin/python benchmarks/bench_predict_state.py [--coin bitcoin] [--horizon 7]
[--repeats 50]``.

In one process, on the embedded snapshot, in a fresh ``$CRYPTOFORECAST_HOME`` (a temporary
directory) and with ``cache_ttl=0`` (every call misses the forecast cache):

- ``no model``: no production model (the technical-analysis fallback and ``garch_ref``);
- ``lightgbm``: a production LightGBM point model (fitted here on the candles before the last
  30 days, then registered);
- ``bare``: that model's ``predict`` on one ready feature row (the floor).

For each: p50 and p95 of a call on a candle already seen (its state kept), and of the first
call after a new candle (the predictor's ``end`` moved one day on, for ``--new`` days), and
of that first call when the candle refresher warmed the state first (``Predictor.warm`` for the
configured horizons, as the service's refresher calls it on a new candle; its own time, spent
in the background, printed apart). Then the aims: a seen candle within 3x bare predict and under 10 ms p50; the first request after a new
candle under 100 ms. Prints the machine's load average too (the figures depend on it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any


def timings(call: Callable[[], Any], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<37} p50 {p(values, 0.5):7.2f} ms  p95 {p(values, 0.95):7.2f} ms  "
        f"(n={len(values)}, mean {statistics.fmean(values):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--coin", default="bitcoin")
    parser.add_argument("--horizon", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--new", type=int, default=10, help="new candles to time")
    args = parser.parse_args()
    os.environ["CRYPTOFORECAST_HOME"] = tempfile.mkdtemp(prefix="bench-state-")

    import pandas as pd

    from cryptoforecast.config import load_config
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features, make_target
    from cryptoforecast.models import make_forecaster
    from cryptoforecast.registry import ModelRegistry
    from cryptoforecast.serving import Predictor
    from cryptoforecast.serving.state import ServingState

    coin, h = args.coin, args.horizon
    print(f"load average (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    candles = load_ohlcv(coin)
    days = [d.strftime("%Y-%m-%d") for d in candles.index[-(args.new + 1) :]]
    registry = ModelRegistry()

    horizons = load_config().horizons

    def new_candles(pred: Predictor, warm_ups: list[float] | None = None) -> list[float]:
        """The first call on each new candle (after the refresher's warm-up, given
        ``warm_ups``, where its times go)."""
        out = []
        for day in days[1:]:
            pred.end = day
            if warm_ups is not None:
                t = time.perf_counter()
                pred.warm(coin, horizons)
                warm_ups.append((time.perf_counter() - t) * 1000.0)
            t = time.perf_counter()
            pred.predict(coin, h)
            out.append((time.perf_counter() - t) * 1000.0)
        return out

    rows: dict[str, list[float]] = {}
    pred = Predictor(registry=registry, cache_ttl=0, record=False, end=days[-1])
    t = time.perf_counter()
    f = pred.predict(coin, h)
    print(f"no model: first call in the process {(time.perf_counter() - t) * 1000:.1f} ms "
          f"({f.source}, {f.distribution_source})")  # fmt: skip
    rows["no model, seen candle"] = timings(lambda: pred.predict(coin, h), args.repeats)
    pred.end = days[0]
    pred.predict(coin, h)
    rows["no model, first after a new candle"] = new_candles(pred)
    warm_ups: list[float] = []
    pred = Predictor(
        registry=registry, cache_ttl=0, record=False, end=days[0], state=ServingState()
    )
    pred.predict(coin, h)
    rows["no model, first after warmed candle"] = new_candles(pred, warm_ups)
    rows[f"(refresher warm-up, h={horizons})"] = warm_ups

    # a production LightGBM point model, trained before the last 30 days
    train = candles.iloc[:-30]
    X, y = build_features(train), make_target(train, h)
    keep = X.notna().all(axis=1) & y.notna()
    model = make_forecaster("lightgbm", horizon=h).fit(X.loc[keep], y.loc[keep])
    path = registry.new_artifact_dir(coin, model.model_type, h)
    model.save_model(path)
    registry.register_model(
        model_type=model.model_type, crypto_id=coin, horizon=h, model_path=path,
        metrics={"val_mase": 0.9}, config={}, status="production", force=True,
    )  # fmt: skip
    pred = Predictor(registry=registry, cache_ttl=0, record=False, end=days[-1])
    f = pred.predict(coin, h)
    assert f.source == "model", f.fallback_reason
    rows["lightgbm, seen candle"] = timings(lambda: pred.predict(coin, h), args.repeats)
    pred.end = days[0]
    pred.predict(coin, h)
    rows["lightgbm, first after a new candle"] = new_candles(pred)
    pred = Predictor(
        registry=registry, cache_ttl=0, record=False, end=days[0], state=ServingState()
    )
    pred.predict(coin, h)
    rows["lightgbm, first after warmed candle"] = new_candles(pred, [])
    recent = pred.point_candles(pred.candles_as_of(coin, days[-1]))
    row = build_features(recent)[list(model.feature_names_)].iloc[-1:]
    assert isinstance(row, pd.DataFrame)
    rows["bare lightgbm model.predict, 1 row"] = timings(lambda: model.predict(row), args.repeats)

    print(f"{coin} h={h}, cache_ttl=0 (every call a forecast-cache miss):")
    for name, values in rows.items():
        print("  " + line(name, values))
    bare = p(rows["bare lightgbm model.predict, 1 row"], 0.5)
    print("aims:")
    for name in ("no model", "lightgbm"):
        seen = p(rows[f"{name}, seen candle"], 0.5)
        first = p(rows[f"{name}, first after a new candle"], 0.5)
        worst = max(rows[f"{name}, first after a new candle"])
        warmed = p(rows[f"{name}, first after warmed candle"], 0.5)
        print(
            f"  {name:<9} seen p50 {seen:.2f} ms = {seen / bare:.1f}x bare "
            f"(aim <= 3x: {'met' if seen <= 3 * bare else 'NOT met'}; "
            f"aim < 10 ms: {'met' if seen < 10 else 'NOT met'}); "
            f"first after a new candle p50 {first:.1f} ms, max {worst:.1f} ms "
            f"(aim < 100 ms: {'met' if worst < 100 else 'NOT met'}); "
            f"after the refresher's warm-up p50 {warmed:.2f} ms = {warmed / bare:.1f}x bare"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
