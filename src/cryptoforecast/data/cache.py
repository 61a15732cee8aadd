"""Local candle cache: one Parquet file per (source, id, interval) under ``$CRYPTOFORECAST_HOME``.

Writes are atomic (temporary file in the same directory, fsync, ``os.replace``) and guarded by a
file lock, so two processes can refresh the same series safely and a writer that dies mid-write
leaves the previous file intact; its temporary file is removed by the next writer of the
directory once it is older than ``STALE_TMP_SECONDS``. Hold :meth:`CandleCache.lock` around a
read-merge-write. Files get the usual permissions for the process umask (so a second service
user in the same group can read a shared cache), and every key part is a plain name: a
``crypto_id`` such as ``../../x`` is refused rather than written outside the cache.

Lock files are shared differently: whoever may read the cache must be able to take its locks, so
a lock file gets read *and write* access for every class of user the umask lets read
(:func:`shared_lock_mode`: ``umask 0027`` gives ``0660``). A lock or a write the process is not
allowed is a :class:`DataError` naming the series and the fix (group write on the cache's
directories), never an absolute path: it can reach an HTTP answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from cryptoforecast.exceptions import CacheError, DataError
from cryptoforecast.paths import home_dir

__all__ = [
    "CACHE_SHARING_FIX",
    "STALE_TMP_SECONDS",
    "CandleCache",
    "atomic_write_bytes",
    "remove_stale_temporaries",
    "unreadable",
    "shared_file_lock",
    "shared_lock_mode",
]

#: a temporary file older than this was left by a writer that died (a write takes well under it)
STALE_TMP_SECONDS = 3600.0
_KEY_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_log = logging.getLogger(__name__)
#: how to give a second service user access (said by every permission error of the cache)
CACHE_SHARING_FIX = (
    "every service user that shares the cache needs write access to its directories and lock "
    "files: give their common group write access (chgrp -R <group> and chmod -R g+w on the cache "
    "directory, $CRYPTOFORECAST_HOME/candles; see SECURITY.md)"
)


def unreadable(source: str, crypto_id: str, interval: str) -> str:
    """A cached series that cannot be read, named without its file (``CacheError.public``)."""
    return f"the {source} {interval} candles for {crypto_id} are unreadable"


def _umask() -> int:
    """The process umask: from ``/proc/self/status`` where there is one, else by setting and
    restoring it (there is no getter) to the strictest mask meanwhile, so a file another thread
    creates in that instant is never more open than it should be."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def shared_lock_mode() -> int:
    """The mode of a new lock file: read and write for each class of user (owner, group,
    others) that the umask lets read files. ``umask 0027`` gives ``0660``, ``0022`` gives
    ``0666``, ``0077`` gives ``0600``. Taking a lock needs write access to its file, and a reader
    of a shared cache updates it too (a forecast from a live source refreshes its series)."""
    readable = 0o444 & ~_umask()
    return readable | readable >> 1


def shared_file_lock(path: Path, timeout: float, **options: Any) -> FileLock:
    """A :class:`FileLock` on ``path`` whose file, when this process creates it, gets
    :func:`shared_lock_mode` whatever the umask; a lock file of ours left more closed by an earlier
    release is opened up to that mode. ``options`` go to :class:`FileLock`."""
    wanted = shared_lock_mode()
    with contextlib.suppress(OSError):  # not there yet, a link, or not ours: nothing to repair
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            have = stat.S_IMODE(info.st_mode)
            if (
                stat.S_ISREG(info.st_mode)
                and info.st_uid == os.geteuid()
                and have & wanted != wanted
            ):
                os.fchmod(fd, have | wanted)
        finally:
            os.close(fd)
    return FileLock(str(path), timeout=timeout, mode=wanted, **options)


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
        """Exclusive lock for a read-modify-write of one series (re-entrant within a thread).

        Raises:
            CacheError: another process held the lock for ``lock_timeout`` seconds, or this
                user may not take it (the message names the series and the fix, not the path;
                a service answers 503).
        """
        target = self.path(source, crypto_id, interval)
        lock_path = Path(f"{target}.lock")
        series = f"{source} {crypto_id} {interval}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            lock = shared_file_lock(lock_path, self.lock_timeout, is_singleton=True)
            lock.acquire()
        except Timeout:
            raise CacheError(
                f"another process is updating the cached {series} candles (its lock file "
                f"{self._shown(lock_path)} was held for more than {self.lock_timeout:g} s). Wait "
                "for it to finish and try again, or give CandleCache a longer lock_timeout.",
                public=f"the {series} candles are being updated; try again shortly",
            ) from None
        except PermissionError as exc:
            _log.warning("cannot lock the cached %s candles: %s", series, exc)
            raise CacheError(
                f"cannot take the lock of the cached {series} candles: permission denied on its "
                f"lock file ({self._shown(lock_path)}); this user may read the cache but not "
                "update it: "
                f"{CACHE_SHARING_FIX}",
                public=f"the {series} candles cannot be updated by this service",
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
            try:
                atomic_write_bytes(target, payload)
            except PermissionError as exc:
                series = f"{source} {crypto_id} {interval}"
                _log.warning("cannot write the cached %s candles: %s", series, exc)
                raise CacheError(
                    f"cannot write the cached {series} candles: permission denied in their "
                    f"directory ({self._shown(target.parent)}); {CACHE_SHARING_FIX}",
                    public=f"the {series} candles cannot be updated by this service",
                ) from None
        return target

    def _shown(self, path: Path) -> str:
        """``path`` as errors show it: relative to the cache root (never absolute)."""
        return f"{path.relative_to(self.root).as_posix()} in the candle cache"

    def entries(self) -> list[tuple[str, str, str]]:
        """All cached (source, crypto_id, interval) keys."""
        out: list[tuple[str, str, str]] = []
        if not self.root.exists():
            return out
        for file in sorted(self.root.glob("*/*.parquet")):
            crypto_id, _, interval = file.stem.rpartition("_")
            out.append((file.parent.name, crypto_id, interval))
        return out
