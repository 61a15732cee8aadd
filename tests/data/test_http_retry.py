"""The shared retry policy, Retry-After parsing, the rate limiter and the JSON fetcher."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time

import httpx
import pytest

from cryptoforecast.data.sources.http import JSONFetcher
from cryptoforecast.data.sources.http_source import run_sync
from cryptoforecast.data.sources.pacing import RateLimiter, RetryPolicy, parse_retry_after
from cryptoforecast.exceptions import ConfigError, SourceError
from cryptoforecast.redaction import redact


class FakeTime:
    """A clock whose sleep advances it (no real waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_backoff_doubles_up_to_the_cap_and_jitter_stays_in_bounds() -> None:
    plain = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.0)
    assert [plain.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittery = RetryPolicy(base_delay=1.0, max_delay=100.0, jitter=0.5)
    rng = random.Random(0)
    draws = [jittery.backoff(2, rng) for _ in range(200)]
    assert min(draws) >= 2.0 and max(draws) <= 3.0
    assert len({round(d, 6) for d in draws}) > 100  # really random, so clients do not retry in step


def test_retryable_statuses() -> None:
    policy = RetryPolicy()
    assert all(policy.retryable(s) for s in (429, 500, 502, 503, 504, 599))
    assert not any(policy.retryable(s) for s in (400, 401, 403, 404, 451))


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ConfigError, match="max_attempts must be >= 1, got 0"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigError, match="base_delay must be >= 0"):
        RetryPolicy(base_delay=-1)


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30, abs=1.0)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_rate_limiter_allows_a_burst_then_spaces_calls() -> None:
    fake = FakeTime()
    limiter = RateLimiter(30, burst=3, clock=fake.clock, sleep=fake.sleep)
    start = fake.now

    async def calls(n: int) -> None:
        for _ in range(n):
            await limiter.acquire()

    asyncio.run(calls(6))
    assert len(fake.sleeps) == 3  # the first 3 go at once
    assert all(s == pytest.approx(2.0) for s in fake.sleeps)  # then one every 2 s (30 a minute)
    assert fake.now - start == pytest.approx(6.0)


def test_rate_limiter_refills_over_time() -> None:
    fake = FakeTime()
    limiter = RateLimiter(60, burst=1, clock=fake.clock, sleep=fake.sleep)
    asyncio.run(limiter.acquire())
    fake.now += 5.0  # idle time refills the bucket (up to the burst)
    assert asyncio.run(limiter.acquire()) == 0.0
    assert asyncio.run(limiter.acquire()) == pytest.approx(1.0)


def _fetcher(handler, **kwargs) -> tuple[JSONFetcher, FakeTime]:  # type: ignore[no-untyped-def]
    fake = FakeTime()
    kwargs.setdefault(
        "retry", RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=10, jitter=0.0)
    )
    fetcher = JSONFetcher(
        "Test",
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
        **kwargs,
    )
    return fetcher, fake


def test_fetcher_retries_5xx_then_returns_json() -> None:
    answers = iter([503, 500, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json={"ok": status == 200})

    fetcher, fake = _fetcher(handler)
    assert run_sync(lambda: fetcher.get_json("http://test/x")) == {"ok": True}
    assert fake.sleeps == [0.1, 0.2]
    assert fetcher.requests_sent == 3


def test_fetcher_gives_up_when_the_total_time_would_pass() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    policy = RetryPolicy(
        max_attempts=50, base_delay=1.0, max_delay=8.0, jitter=0.0, total_timeout=10.0
    )
    fetcher, fake = _fetcher(handler, retry=policy)
    with pytest.raises(SourceError, match=r"giving up .* total_timeout=10 s"):
        run_sync(lambda: fetcher.get_json("http://test/x"))
    assert sum(fake.sleeps) <= 10.0
    assert fetcher.requests_sent == 4  # waits 1 + 2 + 4 = 7 s; the next 8 s wait would pass 10 s


def test_fetcher_refuses_a_retry_after_beyond_max_delay() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3600"})

    fetcher, fake = _fetcher(handler)
    with pytest.raises(SourceError, match="asked to wait 3600 s .* max_delay=10 s"):
        run_sync(lambda: fetcher.get_json("http://test/x"))
    assert fake.sleeps == []


def test_fetcher_retries_connection_errors_and_reports_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    fetcher, fake = _fetcher(handler)
    with pytest.raises(SourceError, match=r"failed after 4 attempt\(s\): connection refused"):
        run_sync(lambda: fetcher.get_json("http://test/x"))
    assert len(fake.sleeps) == 3


def test_secrets_are_redacted_from_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="bad key k-123-secret given")

    fetcher, _ = _fetcher(handler, secrets=["k-123-secret"])
    with pytest.raises(SourceError) as info:
        run_sync(lambda: fetcher.get_json("http://test/x?key=k-123-secret"))
    assert "k-123-secret" not in str(info.value)
    assert "***" in str(info.value)
    assert redact("a s3cr3t b", ["s3cr3t", None, ""]) == "a *** b"


def test_run_sync_works_inside_a_running_event_loop() -> None:
    async def inner() -> int:
        return 41

    async def outer() -> int:
        return run_sync(inner) + 1  # a notebook or async handler calling the sync API

    assert asyncio.run(outer()) == 42


@pytest.mark.parametrize(
    "module",
    [
        "cryptoforecast.data.live",
        "cryptoforecast.data.sources",
        "cryptoforecast.data.sources.http",
        "cryptoforecast.data.sources.http_source",
        "cryptoforecast.data.sources.pacing",
        "cryptoforecast.data.sources.binance",
        "cryptoforecast.data.sources.coingecko",
    ],
)
def test_live_modules_export_what_they_list(module: str) -> None:
    import importlib

    mod = importlib.import_module(module)
    assert mod.__all__ and all(hasattr(mod, name) for name in mod.__all__)


def test_importing_the_data_package_does_not_load_httpx() -> None:
    import subprocess
    import sys

    code = "import sys, cryptoforecast.data; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), "name resolution failed"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "TLS handshake failed",
        ),
    ],
    ids=["dns", "tls"],
)
def test_failures_retrying_cannot_fix_are_named_and_not_retried(
    error: httpx.TransportError, words: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    fake = FakeTime()
    fetcher = JSONFetcher(
        "Binance",
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    with pytest.raises(SourceError) as info:
        run_sync(lambda: fetcher.get_json("https://binance.invalid/api/v3/klines"))
    text = str(info.value)
    assert words in text and "not retried" in text
    assert "RetryPolicy.max_attempts" not in text and "rate limiting" not in text
    assert fetcher.requests_sent == 1 and fake.sleeps == []


def test_a_dropped_connection_is_still_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadError("connection reset by peer")
        return httpx.Response(200, json={"ok": True})

    fake = FakeTime()
    fetcher = JSONFetcher(
        "Binance", transport=httpx.MockTransport(handler), sleep=fake.sleep, clock=fake.clock
    )
    assert run_sync(lambda: fetcher.get_json("https://binance.invalid/x")) == {"ok": True}
    assert len(calls) == 2
