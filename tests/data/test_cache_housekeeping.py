"""Cache housekeeping: stale temporaries are removed, files respect the umask, keys stay inside."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from cryptoforecast.data import CandleCache, load_ohlcv
from cryptoforecast.data.cache import STALE_TMP_SECONDS
from cryptoforecast.exceptions import DataError


def test_temporaries_of_killed_writers_are_removed(tmp_path: Path) -> None:
    cache = CandleCache(tmp_path)
    folder = tmp_path / "binance"
    folder.mkdir()
    stale = folder / ".bitcoin_1d.parquet.abc123.tmp"
    stale.write_bytes(b"\0" * 1024)
    old = time.time() - STALE_TMP_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = folder / ".ethereum_1d.parquet.def456.tmp"  # a writer still at work
    fresh.write_bytes(b"\0" * 1024)
    cache.write(load_ohlcv("bitcoin", days=5), "binance", "bitcoin", "1d")
    assert not stale.exists() and fresh.exists()


def test_cache_files_respect_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        path = CandleCache(tmp_path).write(
            load_ohlcv("bitcoin", days=5), "binance", "bitcoin", "1d"
        )
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # group can read a shared cache


@pytest.mark.parametrize(
    ("source", "crypto_id", "interval"),
    [
        ("binance", "../../x", "1d"),
        ("binance", "a/b", "1d"),
        ("..", "bitcoin", "1d"),
        ("binance", "bitcoin", "1d/../../x"),
        ("binance", "", "1d"),
        ("/abs", "bitcoin", "1d"),
    ],
)
def test_keys_that_are_paths_are_refused(
    tmp_path: Path, source: str, crypto_id: str, interval: str
) -> None:
    cache = CandleCache(tmp_path / "cache")
    frame = load_ohlcv("bitcoin", days=5)
    with pytest.raises(DataError, match="never a path"):
        cache.write(frame, source, crypto_id, interval)
    with pytest.raises(DataError, match="never a path"):
        cache.read(source, crypto_id, interval)
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


def test_a_damaged_cached_file_is_a_data_error(tmp_path: Path) -> None:
    cache = CandleCache(tmp_path)
    path = cache.path("binance", "bitcoin", "1d")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="unreadable.*data update"):
        cache.read("binance", "bitcoin", "1d")
