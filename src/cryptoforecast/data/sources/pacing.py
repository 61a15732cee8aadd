"""When a live source may send: the retry policy, ``Retry-After`` parsing and the rate limit.

* :class:`RetryPolicy`: exponential backoff with jitter on timeouts, connection errors, 429 and
  5xx, honouring ``Retry-After``; a cap on attempts and on total time. Other 4xx fail at once.
* :func:`parse_retry_after`: the seconds a ``Retry-After`` header asks for.
* :class:`RateLimiter`: a token bucket (``calls_per_minute`` with a small ``burst``).

``sleep`` and ``clock`` are injectable so tests run in milliseconds while still checking which
delays were asked for.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cryptoforecast.exceptions import ConfigError

__all__ = ["ClockFn", "RateLimiter", "RetryPolicy", "SleepFn", "parse_retry_after"]

SleepFn = Callable[[float], Awaitable[None]]
ClockFn = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Attributes:
        max_attempts: total tries per request (1 means no retry).
        base_delay: the first backoff in seconds; attempt ``n`` waits ``base_delay * 2**(n-1)``.
        max_delay: cap on one backoff (and on an honoured ``Retry-After``).
        jitter: fraction of the backoff added at random (0.5 means up to +50%).
        total_timeout: give up when the next wait would end after this many seconds in total.
        retry_statuses: HTTP statuses worth retrying (429 and 5xx by default).
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    total_timeout: float = 120.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({408, 425, 429, 500, 502, 503, 504})
    )

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("base_delay", "max_delay", "jitter", "total_timeout"):
            if getattr(self, name) < 0:
                raise ConfigError(f"RetryPolicy.{name} must be >= 0, got {getattr(self, name)}")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based), jitter included."""
        base = self.base_delay * 2 ** min(max(attempt - 1, 0), 60)
        spread = 1.0 + self.jitter * (rng or random).random() if self.jitter else 1.0
        return min(self.max_delay, base * spread)

    def retryable(self, status: int) -> bool:
        """Whether an HTTP ``status`` is worth another try."""
        return status in self.retry_statuses or 500 <= status < 600


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), or ``None``."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RateLimiter:
    """Token bucket: at most ``calls_per_minute`` on average, ``burst`` back to back.

    One limiter belongs to one source object; share the object to share the budget.
    """

    def __init__(
        self,
        calls_per_minute: float,
        burst: int = 1,
        clock: ClockFn | None = None,
        sleep: SleepFn | None = None,
    ) -> None:
        if calls_per_minute <= 0:
            raise ConfigError(f"calls_per_minute must be > 0, got {calls_per_minute}")
        if burst < 1:
            raise ConfigError(f"burst must be >= 1, got {burst}")
        self.calls_per_minute = float(calls_per_minute)
        self.burst = int(burst)
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self._tokens = float(burst)
        self._stamp: float | None = None
        self.waits: list[float] = []

    @property
    def interval(self) -> float:
        """Seconds between calls at the sustained rate."""
        return 60.0 / self.calls_per_minute

    def _refill(self) -> None:
        now = self._clock()
        if self._stamp is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) / self.interval)
        self._stamp = now

    async def acquire(self) -> float:
        """Wait until a call is allowed; return the seconds waited."""
        self._refill()
        waited = 0.0
        if self._tokens < 1.0:
            waited = (1.0 - self._tokens) * self.interval
            self.waits.append(waited)
            await self._sleep(waited)
            self._refill()
            self._tokens = max(self._tokens, 1.0)
        self._tokens -= 1.0
        return waited
