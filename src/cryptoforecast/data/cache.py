"""Local candle cache: one Parquet file per (source, id, interval) under ``$CRYPTOFORECAST_HOME``.

Writes are atomic (temporary file in the same directory, fsync, ``os.replace``) and guarded by a
file lock, so two processes can refresh the same series safely and a writer that dies mid-write
leaves the previous file intact. Hold :meth:`CandleCache.lock` around a read-merge-write.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from cryptoforecast.exceptions import DataError
from cryptoforecast.paths import home_dir

__all__ = ["CandleCache", "atomic_write_bytes"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class CandleCache:
    """Parquet files of validated candles, keyed by (source, crypto_id, interval)."""

    def __init__(self, root: str | Path | None = None, lock_timeout: float = 60.0) -> None:
        self.root = Path(root) if root is not None else home_dir() / "candles"
        self.lock_timeout = lock_timeout

    def path(self, source: str, crypto_id: str, interval: str) -> Path:
        return self.root / source / f"{crypto_id}_{interval}.parquet"

    @contextlib.contextmanager
    def lock(self, source: str, crypto_id: str, interval: str) -> Iterator[None]:
        """Exclusive lock for a read-modify-write of one series (re-entrant within a thread)."""
        target = self.path(source, crypto_id, interval)
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(target) + ".lock", timeout=self.lock_timeout, is_singleton=True)
        try:
            lock.acquire()
        except Timeout:
            raise DataError(
                f"another process is updating the cached {source} {crypto_id} {interval} candles "
                f"(lock {lock.lock_file} held for more than {self.lock_timeout:g} s). Wait for it "
                "to finish and try again, or give CandleCache a longer lock_timeout."
            ) from None
        try:
            yield
        finally:
            lock.release()

    def read(self, source: str, crypto_id: str, interval: str) -> pd.DataFrame | None:
        """The cached frame, or ``None`` when nothing is cached."""
        target = self.path(source, crypto_id, interval)
        if not target.exists():
            return None
        return pd.read_parquet(target)

    def write(self, df: pd.DataFrame, source: str, crypto_id: str, interval: str) -> Path:
        """Replace the cached series atomically under the lock."""
        target = self.path(source, crypto_id, interval)
        with self.lock(source, crypto_id, interval):
            payload = df.to_parquet(index=True)
            atomic_write_bytes(target, payload)
        return target

    def entries(self) -> list[tuple[str, str, str]]:
        """All cached (source, crypto_id, interval) keys."""
        out: list[tuple[str, str, str]] = []
        if not self.root.exists():
            return out
        for file in sorted(self.root.glob("*/*.parquet")):
            crypto_id, _, interval = file.stem.rpartition("_")
            out.append((file.parent.name, crypto_id, interval))
        return out
