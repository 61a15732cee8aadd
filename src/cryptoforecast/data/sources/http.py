"""JSON over HTTP for the live sources: one fetcher with retries, a rate limit and clean errors.

* :class:`JSONFetcher`: sends GET requests through an ``httpx.AsyncClient`` (given, or made per
  call), applies the :class:`~cryptoforecast.data.sources.pacing.RetryPolicy` and the
  :class:`~cryptoforecast.data.sources.pacing.RateLimiter`, decodes JSON and turns every failure
  into a :class:`~cryptoforecast.exceptions.SourceError` whose message never contains secrets.
* :func:`describe_transport_error`: what went wrong below HTTP, and whether retrying can help.

The pacing names (``RetryPolicy``, ``RateLimiter``, ``SleepFn``, ``parse_retry_after``) are
importable from here too, as they are part of the fetcher's arguments. What the live sources
share on top of the fetcher is :class:`~cryptoforecast.data.sources.http_source.HTTPSource`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cryptoforecast.compat import import_optional
from cryptoforecast.data.sources.pacing import (
    ClockFn,
    RateLimiter,
    RetryPolicy,
    SleepFn,
    parse_retry_after,
)
from cryptoforecast.exceptions import SourceError
from cryptoforecast.redaction import redact

if TYPE_CHECKING:
    import httpx

__all__ = ["ErrorDescriber", "JSONFetcher", "describe_transport_error"]

_log = logging.getLogger(__name__)


def _httpx() -> Any:
    """httpx, imported when a live source first sends a request (not when data is imported)."""
    return import_optional("httpx", "the live data sources (binance, coingecko)")


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

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[httpx.AsyncClient]:
        """The caller's client when one was given (left open), else a fresh one closed on exit.

        A download of several requests holds one session so they share a connection.
        """
        if self.client is not None:
            yield self.client
            return
        async with self.new_client() as own:
            yield own

    async def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> Any:
        """GET ``url`` and return the decoded JSON, retrying what is worth retrying."""
        if client is not None:
            return await self._get_json(client, url, params, headers)
        async with self.session() as own:
            return await self._get_json(own, url, params, headers)

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
