"""A small thread-safe TTL cache with an injectable clock (so tests can move time)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["TTLCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Entries live ``ttl`` seconds; at most ``maxsize`` entries (oldest evicted first).

    ``clock`` returns seconds (default ``time.monotonic``). ``ttl=0`` disables caching.
    """

    def __init__(
        self, ttl: float, maxsize: int = 4096, clock: Callable[[], float] | None = None
    ) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds, got {ttl!r}")
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize!r}")
        self.ttl = float(ttl)
        self.maxsize = int(maxsize)
        self._clock = clock or time.monotonic
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The live value under ``key`` or ``None`` (expired entries are dropped)."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if self._clock() >= expires:
                del self._data[key]
                return None
            return value

    def set(self, key: K, value: V) -> None:
        """Store ``value`` for ``ttl`` seconds (a no-op when ``ttl`` is 0)."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._data[key] = (self._clock() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def purge(self) -> int:
        """Drop expired entries; returns how many were dropped."""
        now = self._clock()
        with self._lock:
            dead = [k for k, (exp, _) in self._data.items() if now >= exp]
            for k in dead:
                del self._data[k]
            return len(dead)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        self.purge()
        with self._lock:
            return len(self._data)
