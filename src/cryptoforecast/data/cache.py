"""Local candle cache: one Parquet file per (source, id, interval) under ``$CRYPTOFORECAST_HOME``.

Writes are atomic (temporary file in the same directory, fsync, ``os.replace``) and guarded by a
file lock, so two processes can refresh the same series safely and a writer that dies mid-write
leaves the previous file intact; its temporary file is removed by the next writer of the
directory once it is older than ``STALE_TMP_SECONDS``. Hold :meth:`CandleCache.lock` around a
read-merge-write. Files get the usual permissions for the process umask (so a second service
user in the same group can read a shared cache), and every key part is a plain name: a
``crypto_id`` such as ``../../x`` is refused rather than written outside the cache.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from cryptoforecast.exceptions import CacheError, DataError
from cryptoforecast.paths import home_dir

__all__ = [
    "STALE_TMP_SECONDS",
    "CandleCache",
    "atomic_write_bytes",
    "remove_stale_temporaries",
    "unreadable",
]

#: a temporary file older than this was left by a writer that died (a write takes well under it)
STALE_TMP_SECONDS = 3600.0
_KEY_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def unreadable(source: str, crypto_id: str, interval: str) -> str:
    """A cached series that cannot be read, named without its file (``CacheError.public``)."""
    return f"the {source} {interval} candles for {crypto_id} are unreadable"


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temporaries(directory: Path, older_than: float = STALE_TMP_SECONDS) -> int:
    """Remove ``.*.tmp`` files in ``directory`` older than ``older_than`` seconds; return how many.

    They are what a writer killed between creating its temporary file and renaming it leaves.
    """
    removed = 0
    cutoff = time.time() - older_than
    for tmp in directory.glob(".*.tmp"):
        with contextlib.suppress(OSError):  # another cleaner got there first
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
    return removed


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old file or the new one, never half.

    The file gets mode ``0o666`` less the umask, as ``open()`` would give it (``mkstemp`` alone
    makes it ``0o600``); stale temporaries of dead writers in the same directory are removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
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
        """The file of one series; each part must be a plain name (no ``/``, no ``..``)."""
        for name, value in (("source", source), ("crypto_id", crypto_id), ("interval", interval)):
            if not isinstance(value, str) or not _KEY_PART.match(value) or ".." in value:
                raise DataError(
                    f"{name} {value!r} cannot name a cached series: use letters, digits, '-', "
                    "'_' and '.' only (e.g. 'bitcoin', '1d'), never a path"
                )
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
        try:
            return pd.read_parquet(target)
        except Exception as exc:  # pyarrow raises its own types for a damaged file
            raise CacheError(
                f"the cached candles {str(target)!r} are unreadable ({type(exc).__name__}: "
                f"{str(exc)[:200]}); the file is damaged. Delete it and run "
                "`cryptoforecast data update` to fetch the series again.",
                public=unreadable(source, crypto_id, interval),
            ) from None

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
