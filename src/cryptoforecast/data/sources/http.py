"""HTTP plumbing shared by the live sources: one retry policy, a client-side rate limit, httpx.

* :class:`RetryPolicy`: exponential backoff with jitter on timeouts, connection errors, 429 and
  5xx, honouring ``Retry-After``; a cap on attempts and on total time. Other 4xx fail at once.
* :class:`RateLimiter`: a token bucket (``calls_per_minute`` with a small ``burst``).
* :class:`JSONFetcher`: sends GET requests through an ``httpx.AsyncClient`` (given, or made per
  call), applies both, decodes JSON and turns every failure into a
  :class:`~cryptoforecast.exceptions.SourceError` whose message never contains secrets.
* :func:`run_sync`: runs a coroutine from synchronous code, even inside a running event loop.

Everything time-related (``sleep``, ``clock``, ``rng``) is injectable so tests run in
milliseconds while still checking which delays were asked for.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.exceptions import ConfigError, SourceError
from cryptoforecast.redaction import redact

if TYPE_CHECKING:
    import httpx

__all__ = [
    "describe_transport_error",
    "HTTPSource",
    "JSONFetcher",
    "RateLimiter",
    "RetryPolicy",
    "SleepFn",
    "parse_retry_after",
    "redact",
    "run_sync",
]

SleepFn = Callable[[float], Awaitable[None]]
ClockFn = Callable[[], float]
T = TypeVar("T")

_log = logging.getLogger(__name__)


def _httpx() -> Any:
    """httpx, imported when a live source first sends a request (not when data is imported)."""
    return import_optional("httpx", "the live data sources (binance, coingecko)")


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


ErrorDescriber = Callable[["httpx.Response"], str | None]


class JSONFetcher:
    """GET JSON with retries, rate limiting and clean errors.

    Args:
        source: the source's display name, used in messages (``"Binance"``).
        retry: the :class:`RetryPolicy`.
        rate_limiter: a :class:`RateLimiter`, or ``None`` for no client-side limit.
        client: an ``httpx.AsyncClient`` owned by the caller (not closed here). It must belong to
            the event loop the calls run in; leave it ``None`` with the sync API.
        transport: an ``httpx.AsyncBaseTransport`` for the clients made here (tests).
        timeout: seconds per request (connect, read, write and pool).
        sleep, clock, rng: injectable for tests.
        secrets: strings never to show in messages or logs (API keys).
        describe_error: turns a non-retryable error response into the sentence to show.
    """

    def __init__(
        self,
        source: str,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        sleep: SleepFn | None = None,
        clock: ClockFn | None = None,
        rng: random.Random | None = None,
        secrets: Sequence[str | None] = (),
        describe_error: ErrorDescriber | None = None,
    ) -> None:
        self.source = source
        self.retry = retry or RetryPolicy()
        self.rate_limiter = rate_limiter
        self.client = client
        self.transport = transport
        self.timeout = timeout
        self._sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self._rng = rng
        self._secrets = list(secrets)
        self._describe = describe_error
        self.requests_sent = 0
        self.sleeps: list[float] = []

    def add_secret(self, secret: str | None) -> None:
        """Never show ``secret`` in a message or a log line (for keys resolved at call time)."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def clean(self, text: str) -> str:
        """``text`` with every secret of this fetcher (and any URL password) masked."""
        return redact(text, self._secrets)

    def new_client(self) -> httpx.AsyncClient:
        """A fresh ``AsyncClient`` with this fetcher's timeout and transport."""
        return _httpx().AsyncClient(timeout=self.timeout, transport=self.transport)

    async def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> Any:
        """GET ``url`` and return the decoded JSON, retrying what is worth retrying."""
        if client is None and self.client is None:
            async with self.new_client() as own:
                return await self._get_json(own, url, params, headers)
        return await self._get_json(client or self.client, url, params, headers)  # type: ignore[arg-type]

    async def _get_json(
        self,
        client: httpx.AsyncClient,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> Any:
        httpx = _httpx()
        policy = self.retry
        started = self._clock()
        last = "no attempt made"
        shown_url = self.clean(url)
        for attempt in range(1, policy.max_attempts + 1):
            if self.rate_limiter is not None:
                await self.rate_limiter.acquire()
            retry_after: float | None = None
            self.requests_sent += 1
            try:
                response = await client.get(url, params=params, headers=dict(headers or {}))
            except httpx.TimeoutException as exc:
                last = f"timed out after {self.timeout:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                what, retryable = describe_transport_error(exc)
                last = self.clean(what)
                if not retryable:  # retrying cannot fix a bad name, a bad URL or a bad certificate
                    raise SourceError(
                        f"{self.source}: {shown_url} failed: {last} (not retried: retrying cannot "
                        "fix it; check the network, the URL and any proxy or firewall)"
                    ) from None
            else:
                status = response.status_code
                if status < 400:
                    return self._decode(response, shown_url)
                if not policy.retryable(status):
                    raise SourceError(self.clean(self._error_message(response, shown_url)))
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last = f"HTTP {status}" + (
                    f" (Retry-After: {retry_after:g} s)" if retry_after is not None else ""
                )
            if attempt == policy.max_attempts:
                break
            wait = policy.backoff(attempt, self._rng)
            if retry_after is not None:
                wait = retry_after
                if retry_after > policy.max_delay:
                    raise SourceError(
                        f"{self.source} asked to wait {retry_after:g} s before retrying {shown_url} "
                        f"(more than the policy's max_delay={policy.max_delay:g} s). "
                        "Try again later, or raise RetryPolicy.max_delay."
                    )
            elapsed = self._clock() - started
            if elapsed + wait > policy.total_timeout:
                raise SourceError(
                    f"{self.source}: giving up on {shown_url} after {attempt} attempt(s) in "
                    f"{elapsed:.1f} s: {last}; the next wait of {wait:.1f} s would pass "
                    f"total_timeout={policy.total_timeout:g} s. Try again later, or raise "
                    "RetryPolicy.total_timeout."
                )
            _log.warning(
                "%s: %s on %s (attempt %d/%d); retrying in %.2f s",
                self.source,
                last,
                shown_url,
                attempt,
                policy.max_attempts,
                wait,
            )
            self.sleeps.append(wait)
            await self._sleep(wait)
        raise SourceError(
            f"{self.source}: {shown_url} failed after {policy.max_attempts} attempt(s): {last}. "
            "The service may be down or rate limiting; try again later (in Python, "
            "RetryPolicy(max_attempts=...) allows more attempts)."
        )

    def _decode(self, response: httpx.Response, shown_url: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            size = len(response.content)
            raise SourceError(
                f"{self.source}: the answer from {shown_url} is not valid JSON ({exc}; "
                f"{size} bytes received, possibly truncated). Nothing was cached; try again."
            ) from None

    def _error_message(self, response: httpx.Response, shown_url: str) -> str:
        detail = self._describe(response) if self._describe is not None else None
        if detail:
            return detail
        body = response.text[:300].strip()
        return (
            f"{self.source} refused {shown_url} with HTTP {response.status_code}: "
            f"{body or response.reason_phrase}. Check the request (id, symbol, dates, API key)."
        )


def describe_transport_error(exc: httpx.TransportError) -> tuple[str, bool]:
    """What went wrong below HTTP, in words, and whether retrying can help.

    Name resolution, a TLS failure and an invalid URL are not retried; a refused or dropped
    connection or a protocol hiccup is.
    """
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and len(chain) < 8:
        chain.append(node)
        node = node.__cause__ or node.__context__
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain)
    lowered = text.lower()
    httpx = _httpx()
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"the URL is not valid ({exc}); it must start with https:// or http://", False
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        s in lowered
        for s in (
            "name or service not known",
            "temporary failure in name resolution",
            "nodename nor servname",
            "no address associated",
            "getaddrinfo failed",
        )
    ):
        return f"name resolution failed: the host name could not be looked up ({exc})", False
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in lowered:
        # a server restarting refuses for a moment: worth the policy's retries
        return f"connection refused: nothing accepts connections there ({exc})", True
    if any(isinstance(e, ssl.SSLError) for e in chain) or "certificate" in lowered:
        return f"TLS handshake failed ({exc}); check the system clock, proxy or certificates", False
    return f"connection failed ({type(exc).__name__}: {exc})", True


class HTTPSource:
    """What the live sources share: a :class:`JSONFetcher` (retries, redaction) behind a
    client-side rate limit, the request count, and an injectable clock.

    A source sets ``label`` (in messages) and ``burst`` (requests allowed at once), calls
    :meth:`_connect` from its constructor and implements ``_describe_error``.
    """

    label: ClassVar[str] = "HTTP"
    burst: ClassVar[int] = 5
    fetcher: JSONFetcher

    def _connect(
        self,
        *,
        client: httpx.AsyncClient | None,
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryPolicy | None,
        calls_per_minute: float | None,
        rate_limiter: RateLimiter | None,
        timeout: float,
        now: Callable[[], pd.Timestamp] | None,
        sleep: SleepFn | None,
        clock: ClockFn | None,
        rng: random.Random | None,
        secrets: Sequence[str | None] = (),
    ) -> None:
        self._now = now
        if rate_limiter is None and calls_per_minute is not None:
            rate_limiter = RateLimiter(calls_per_minute, burst=self.burst, clock=clock, sleep=sleep)
        self.fetcher = JSONFetcher(
            self.label,
            retry=retry,
            rate_limiter=rate_limiter,
            client=client,
            transport=transport,
            timeout=timeout,
            sleep=sleep,
            clock=clock,
            rng=rng,
            secrets=secrets,
            describe_error=self._describe_error,
        )

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far by this source (retries included)."""
        return self.fetcher.requests_sent

    def now(self) -> pd.Timestamp:
        """The current UTC time (injectable for tests)."""
        return self._now() if self._now is not None else pd.Timestamp.now(tz="UTC")

    def _describe_error(self, response: httpx.Response) -> str | None:
        return None


def run_sync(make_coro: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine built by ``make_coro`` to completion from synchronous code.

    Uses ``asyncio.run``; when called from inside a running event loop (a notebook, an async
    web handler), runs it on a fresh loop in a worker thread instead of failing.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coro())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make_coro())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="cryptoforecast-http", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
