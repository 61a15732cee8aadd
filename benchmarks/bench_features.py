"""Time ``build_features`` on the 8 embedded assets (daily and 4h) against bare TA-Lib calls.

Run: ``.venv/bin/python benchmarks/bench_features.py [--repeat 7]``. Prints, per interval, the
best-of-N wall time to build every feature for all 8 assets, the time the same indicators take as
bare TA-Lib calls (RSI 7/14/21, MACD, BBANDS, ATR, NATR, STOCH, CCI, WILLR, ADX, +DI, -DI, MFI,
SMA and EMA at 5..200, OBV, STDDEV, MAX/MIN, CORREL, ROC), and the ratio of the two.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.data import load_ohlcv
from cryptoforecast.features import build_features

WINDOWS = (5, 10, 20, 50, 100, 200)


def bare_talib(df: pd.DataFrame) -> list[np.ndarray]:
    """The TA-Lib calls a plain TA-Lib feature script would make for the same indicators."""
    import talib

    o, h, lo, c, v = (df[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))
    out = [talib.RSI(c, n) for n in (7, 14, 21)]
    out += list(talib.MACD(c, 12, 26, 9))
    out += list(talib.BBANDS(c, 20, 2.0, 2.0))
    out += [talib.ATR(h, lo, c, 14), talib.ATR(h, lo, c, 50), talib.NATR(h, lo, c, 14)]
    out += list(talib.STOCH(h, lo, c, 14, 3, 0, 3, 0))
    out += [talib.CCI(h, lo, c, 20), talib.WILLR(h, lo, c, 14), talib.ADX(h, lo, c, 14)]
    out += [talib.PLUS_DI(h, lo, c, 14), talib.MINUS_DI(h, lo, c, 14), talib.MFI(h, lo, c, v, 14)]
    out += [talib.SMA(c, w) for w in WINDOWS] + [talib.EMA(c, w) for w in WINDOWS]
    out += [talib.OBV(c, v)] + [talib.ROC(c, k) for k in (1, 3, 7, 14, 30)]
    out += [talib.STDDEV(c, k) for k in (7, 14, 30)]
    out += [talib.MAX(c, k) for k in (20, 50, 200)] + [talib.MIN(c, k) for k in (20, 50, 200)]
    out += [talib.CORREL(c, v, k) for k in (20, 50)]
    return out


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    head = ("interval", "rows/asset", "features", "build 8", "talib 8", "ratio")
    print(
        f"{head[0]:<9}"
        + "".join(f"{h:>{w}}" for h, w in zip(head[1:], (12, 10, 11, 11, 8), strict=True))
    )
    for interval in ("1d", "4h"):
        frames = [load_ohlcv(a.id, interval=interval) for a in snapshot_assets()]
        build_features(frames[0])  # warm imports
        n_feat = build_features(frames[0]).shape[1]
        ours = best_of(lambda fs=frames: [build_features(f) for f in fs], args.repeat)
        ref = best_of(lambda fs=frames: [bare_talib(f) for f in fs], args.repeat)
        rows = int(np.mean([len(f) for f in frames]))
        print(
            f"{interval:<9}{rows:>12,}{n_feat:>10}{ours * 1e3:>9.1f}ms{ref * 1e3:>9.1f}ms"
            f"{ours / ref:>7.1f}x"
        )


if __name__ == "__main__":
    main()
