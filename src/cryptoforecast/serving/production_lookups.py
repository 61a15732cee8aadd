"""Production lookups kept while the registry is unchanged.

A forecast asks the registry for the production point model and the production distribution
version of its key. Both answers hold until the registry is written to, and every write moves
the registry's change stamp (``ModelRegistry.change_stamp``: a counter moved in the write's own
transaction, whichever process wrote; one tiny query to read). :class:`ProductionLookups` keeps
each answer under the stamp it was read at and drops them all when the stamp moves, so a
promotion made anywhere is served from the next request, while a request on an unchanged
registry reads one number instead of the models table twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from cryptoforecast.redaction import redact

__all__ = ["ProductionLookups"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class ProductionLookups(Generic[T]):
    """Answers read from ``registry()``, kept while its change stamp stays the same.

    ``registry`` is called for the registry each time (it may be created on first use); a
    registry without ``change_stamp``, or whose stamp cannot be read, keeps nothing.
    """

    def __init__(self, registry: Callable[[], Any]) -> None:
        self._registry = registry
        self._kept: dict[Hashable, T] = {}
        self._stamp: int | None = None
        self._lock = threading.Lock()

    def stamp(self) -> int | None:
        """The registry's change stamp now, or ``None`` when it has none or it cannot be read
        (then nothing read is kept)."""
        stamp_of = getattr(self._registry(), "change_stamp", None)
        if stamp_of is None:
            return None
        try:
            return int(stamp_of())
        except Exception as exc:  # the lookups themselves will say what failed
            log.debug("no registry change stamp: %s", redact(exc))
            return None

    def get(self, stamp: int | None, key: Hashable, read: Callable[[], T]) -> T:
        """``read()``, kept while the registry's change stamp stays ``stamp`` (read once per
        request with :meth:`stamp`, so the lookups of one request agree). What is kept is never
        older than that stamp: a write between the stamp and ``read`` is kept under the older
        stamp and dropped at the next request. Errors are raised, never kept."""
        if stamp is None:
            return read()
        with self._lock:
            if stamp != self._stamp:
                self._kept = {}
                self._stamp = stamp
            if key in self._kept:
                return self._kept[key]
        found = read()
        with self._lock:
            if stamp == self._stamp:
                self._kept[key] = found
        return found
