"""The candle cache: atomic replace, file lock, and survival of a writer killed mid-write."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from cryptoforecast.data import CandleCache, load_ohlcv


def _frame(n: int, start: str = "2024-01-01") -> pd.DataFrame:
    return load_ohlcv("bitcoin", days=n, end=start) if n else load_ohlcv("bitcoin", days=1)


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    cache = CandleCache(tmp_path)
    df = load_ohlcv("bitcoin", days=50)
    path = cache.write(df, "binance", "bitcoin", "1d")
    assert path == tmp_path / "binance" / "bitcoin_1d.parquet"
    pd.testing.assert_frame_equal(cache.read("binance", "bitcoin", "1d"), df, check_freq=False)
    assert cache.read("binance", "ethereum", "1d") is None
    assert cache.entries() == [("binance", "bitcoin", "1d")]


def test_default_root_is_under_home(cf_home: Path) -> None:
    assert CandleCache().root == cf_home / "candles"


def _append_rows(root: str, worker: int, n: int) -> None:
    cache = CandleCache(root)
    for i in range(n):
        with cache.lock("binance", "bitcoin", "1d"):
            cur = cache.read("binance", "bitcoin", "1d")
            ts = pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(days=worker * 1000 + i)
            row = pd.DataFrame(
                {"close": [float(worker)], "volume": [float(i)]},
                index=pd.DatetimeIndex([ts], name="timestamp"),
            )
            new = row if cur is None else pd.concat([cur, row]).sort_index()
            time.sleep(0.001)  # widen the race window: a lost update would show without the lock
            cache.write(new, "binance", "bitcoin", "1d")


def test_two_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    n = 25
    procs = [ctx.Process(target=_append_rows, args=(str(tmp_path), w, n)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    final = CandleCache(tmp_path).read("binance", "bitcoin", "1d")
    assert final is not None
    assert len(final) == 2 * n
    assert sorted(final["close"].value_counts().to_dict().items()) == [(1.0, n), (2.0, n)]


KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    import pandas as pd
    from cryptoforecast.data import CandleCache, load_ohlcv
    import cryptoforecast.data.cache as cache_mod

    def stall(fd):
        print("writing", flush=True)   # the new file is half done: stop here until killed
        time.sleep(60)

    cache_mod.os.fsync = stall
    CandleCache(sys.argv[1]).write(load_ohlcv("bitcoin"), "binance", "bitcoin", "1d")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_writer_killed_mid_write_leaves_previous_file(tmp_path: Path) -> None:
    cache = CandleCache(tmp_path)
    old = load_ohlcv("bitcoin", days=10)
    path = cache.write(old, "binance", "bitcoin", "1d")
    before = path.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        leftovers = list(path.parent.glob(".bitcoin_1d.parquet.*.tmp"))
        assert leftovers, "the writer should be mid-write, with its temporary file present"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert path.read_bytes() == before
    pd.testing.assert_frame_equal(cache.read("binance", "bitcoin", "1d"), old, check_freq=False)
    # the lock died with the process: the next writer proceeds
    cache.write(load_ohlcv("bitcoin", days=12), "binance", "bitcoin", "1d")
    assert len(cache.read("binance", "bitcoin", "1d")) == 12


def test_failed_serialisation_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = CandleCache(tmp_path)
    path = cache.write(load_ohlcv("bitcoin", days=5), "binance", "bitcoin", "1d")
    before = path.read_bytes()

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("cryptoforecast.data.cache.os.fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        cache.write(load_ohlcv("bitcoin", days=9), "binance", "bitcoin", "1d")
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.tmp")), "the temporary file must be cleaned up"


HOLD_LOCK = "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); time.sleep(60)"


def test_a_lock_held_elsewhere_is_a_clear_data_error(tmp_path: Path) -> None:
    from cryptoforecast.exceptions import CacheError, DataError

    cache = CandleCache(tmp_path, lock_timeout=0.2)
    path = cache.path("binance", "bitcoin", "1d")
    path.parent.mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path) + ".lock"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        # a CacheError, a DataError (not filelock's Timeout), so 'data update' reports it and
        # goes on, and a service answers 503 naming the series only
        with pytest.raises(
            CacheError, match=r"another process is updating .*binance bitcoin 1d"
        ) as info:
            cache.write(load_ohlcv("bitcoin", days=3), "binance", "bitcoin", "1d")
        assert isinstance(info.value, DataError)
        assert (
            info.value.public
            == "the binance bitcoin 1d candles are being updated; try again shortly"
        )
    finally:
        proc.kill()
        proc.wait(30)
    assert not path.exists()
    cache.write(load_ohlcv("bitcoin", days=3), "binance", "bitcoin", "1d")  # free again
    assert len(cache.read("binance", "bitcoin", "1d")) == 3
