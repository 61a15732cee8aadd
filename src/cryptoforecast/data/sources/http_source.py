"""What the live sources share: their HTTP options, the fetcher built from them, a sync API.

* :class:`HTTPOptions`: the keyword arguments every live source takes (client, transport, retry,
  rate limit, timeout, injectable time), documented once here.
* :class:`HTTPSource`: builds a :class:`~cryptoforecast.data.sources.http.JSONFetcher` from them
  behind a client-side rate limit, counts requests and tells the time (injectable).
* :func:`run_sync` and :func:`blocking`: the synchronous form of a coroutine, usable even inside
  a running event loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypedDict, TypeVar

import pandas as pd

from cryptoforecast.data.sources.http import JSONFetcher
from cryptoforecast.data.sources.pacing import ClockFn, RateLimiter, RetryPolicy, SleepFn

if TYPE_CHECKING:
    import httpx

__all__ = ["HTTPOptions", "HTTPSource", "blocking", "run_sync"]

P = ParamSpec("P")
T = TypeVar("T")


class HTTPOptions(TypedDict, total=False):
    """The keyword arguments every live source accepts, beside its own.

    Keys:
        client: an ``httpx.AsyncClient`` you own (for the async API inside your event loop).
        transport: an ``httpx.AsyncBaseTransport`` for the clients made here (tests).
        retry: the :class:`RetryPolicy` (default: 5 attempts, 0.5 s doubling, 2 minutes in all).
        calls_per_minute: client-side rate limit (``None`` for none; the default is the source's
            ``default_calls_per_minute``); ``rate_limiter`` overrides it.
        rate_limiter: a :class:`RateLimiter` (share one between sources to share a budget).
        timeout: seconds per request (default: the source's ``default_timeout``).
        now: a function returning the current UTC time (candles not closed by then are dropped).
        sleep, clock, rng: injectable for tests.
    """

    client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    retry: RetryPolicy | None
    calls_per_minute: float | None
    rate_limiter: RateLimiter | None
    timeout: float
    now: Callable[[], pd.Timestamp] | None
    sleep: SleepFn | None
    clock: ClockFn | None
    rng: random.Random | None


class HTTPSource:
    """What the live sources share: a :class:`JSONFetcher` (retries, redaction) behind a
    client-side rate limit, the request count, and an injectable clock.

    A source sets ``label`` (in messages), ``intervals`` (the candle intervals it gives),
    ``burst`` (requests allowed at once) and its defaults
    for ``calls_per_minute`` and ``timeout``; its constructor takes its own arguments plus
    ``**http: Unpack[HTTPOptions]`` and passes them on; it implements ``_describe_error``.
    """

    label: ClassVar[str] = "HTTP"
    intervals: ClassVar[tuple[str, ...]] = ("1d",)
    burst: ClassVar[int] = 5
    default_calls_per_minute: ClassVar[float] = 60.0
    default_timeout: ClassVar[float] = 15.0
    fetcher: JSONFetcher

    def __init__(self, options: HTTPOptions, secrets: Sequence[str | None] = ()) -> None:
        unknown = sorted(set(options) - set(HTTPOptions.__annotations__))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) {unknown}; "
                f"it accepts {', '.join(self.option_names())}"
            )
        sleep, clock = options.get("sleep"), options.get("clock")
        rate_limiter = options.get("rate_limiter")
        calls_per_minute = options.get("calls_per_minute", self.default_calls_per_minute)
        if rate_limiter is None and calls_per_minute is not None:
            rate_limiter = RateLimiter(calls_per_minute, burst=self.burst, clock=clock, sleep=sleep)
        self._now = options.get("now")
        self.fetcher = JSONFetcher(
            self.label,
            retry=options.get("retry"),
            rate_limiter=rate_limiter,
            client=options.get("client"),
            transport=options.get("transport"),
            timeout=options.get("timeout", self.default_timeout),
            sleep=sleep,
            clock=clock,
            rng=options.get("rng"),
            secrets=secrets,
            describe_error=self._describe_error,
        )

    @classmethod
    def option_names(cls) -> list[str]:
        """Every keyword the constructor accepts: the source's own, then :class:`HTTPOptions`."""
        own = [
            p.name
            for p in inspect.signature(cls).parameters.values()
            if p.kind is not p.VAR_KEYWORD
        ]
        return own + list(HTTPOptions.__annotations__)

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


def blocking(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """The synchronous form of an async function or method, run through :func:`run_sync`.

    In a class body, ``fetch = blocking(afetch)`` gives ``fetch`` the signature of ``afetch``.
    """

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(lambda: method(*args, **kwargs))

    call.__doc__ = f"Synchronous :meth:`{method.__name__}`."
    return call
