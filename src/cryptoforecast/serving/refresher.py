"""Fresh candles without a human: the service's background candle refresher.

For a live source, :class:`CandleRefresher` fetches the new candles of every tracked series a
little after each candle closes (``delay_seconds`` plus up to ``jitter_seconds`` at random, so many
services do not hit the exchange in the same second). It goes through the same code as
``cryptoforecast data update`` (:func:`~cryptoforecast.data.live.refresh_series`: retries, payload
checks, validation, an atomic write under the cache's file lock), so a failure leaves the cached
series as it was. A new last candle changes the forecast cache key: the next request forecasts
from it. A failed series is logged, counted and retried with backoff; it never stops the loop.
After each run, ``after_run`` is called (the service scores the ledger there).

Given ``warm``, each coin whose series got a new candle (of the refresher's interval) is handed
to it last, once the run is counted and ``after_run`` is done (neither waits for it): the
service computes there what a forecast of the new candle reads (``Predictor.warm``, see
:mod:`cryptoforecast.serving.state`), so the first request after the candle fits nothing (a
request that comes while the warm-up runs computes what it needs itself). A run that brings
nothing new warms nothing. A warm-up that fails is logged and noted in the run's
``notes["warm_errors"]`` (the kind of failure only); it never makes the run fail.

A *tracked* series is one already in the candle cache for the source and interval, plus the
assets of the registry's production models. Beside each daily series of a source that has 4h
candles (Binance) its 4h candles are kept too (:func:`~cryptoforecast.data.companion_intervals`;
in a run's ``added`` and ``errors`` as ``"bitcoin 4h"``), fetched first so that a new daily
candle is never read beside 4h candles that stop before its close: a distribution fitted on
them serves from them (see ``Predictor.intraday``). CoinGecko has no 4h candles: nothing more is
fetched there.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptoforecast.assets import resolve_asset
from cryptoforecast.data import CandleCache, companion_intervals
from cryptoforecast.data.live import refresh_series
from cryptoforecast.data.schema import check_interval
from cryptoforecast.redaction import redact
from cryptoforecast.serving.failures import public_reason

__all__ = ["CandleRefresher", "RefreshRun", "next_candle_close"]

log = logging.getLogger(__name__)

#: longest sleep between clock readings, so a suspended or adjusted clock is noticed
MAX_WAIT_SECONDS = 60.0
#: longest back-off between retries of a failed run
MAX_RETRY_SECONDS = 900.0


def next_candle_close(now: datetime, interval: str) -> datetime:
    """The first candle close strictly after ``now`` (candles are aligned to the Unix epoch,
    as exchanges align them: daily ones close at 00:00 UTC, 4h ones at 00, 04, ... 20 UTC)."""
    step = check_interval(interval).total_seconds()
    ts = now.timestamp()
    return datetime.fromtimestamp((math.floor(ts / step) + 1) * step, tz=UTC)


@dataclass
class RefreshRun:
    """What one refresh run did."""

    started_at: datetime
    finished_at: datetime | None = None
    added: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: what ``after_run`` reports (e.g. the ledger's scored and pending counts)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class CandleRefresher:
    """Keeps the cached candles of a live source current (see the module docstring).

    Args:
        source: ``"binance"`` or ``"coingecko"``.
        interval: candle interval of the series.
        tracked: returns extra asset ids to keep fresh (e.g. those with a production model).
        cache: the candle cache (default: under ``$CRYPTOFORECAST_HOME``).
        delay_seconds, jitter_seconds: when to fetch after a candle closes.
        retry_seconds: first back-off after a failed run (doubled per failure, at most 15 min).
        clock: current UTC time (tests move it).
        after_run: called with each :class:`RefreshRun` (errors there are logged, not raised).
        warm: called with the id of each coin that got a new candle (errors there are logged,
            not raised; see the module docstring).
        rng: random source of the jitter.
        source_options: passed to the source (``base_url=``, ``retry=``...).
    """

    def __init__(
        self,
        source: str,
        interval: str = "1d",
        *,
        tracked: Callable[[], list[str]] | None = None,
        cache: CandleCache | None = None,
        delay_seconds: float = 30.0,
        jitter_seconds: float = 30.0,
        retry_seconds: float = 60.0,
        clock: Callable[[], datetime] | None = None,
        after_run: Callable[[RefreshRun], None] | None = None,
        warm: Callable[[str], Any] | None = None,
        rng: random.Random | None = None,
        **source_options: Any,
    ) -> None:
        check_interval(interval)
        self.source = source
        self.interval = interval
        self.tracked = tracked
        self.cache = cache or CandleCache()
        self.delay_seconds = float(delay_seconds)
        self.jitter_seconds = float(jitter_seconds)
        self.retry_seconds = float(retry_seconds)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.after_run = after_run
        self.warm = warm
        self.rng = rng or random.Random()
        self.source_options = source_options
        self.runs = 0
        self.failures = 0
        self.candles_added = 0
        self.last_run: RefreshRun | None = None
        self.last_success_at: datetime | None = None
        self._consecutive_failures = 0

    def series(self) -> list[str]:
        """Asset ids to refresh: cached series of this source and interval, plus ``tracked``."""
        ids = [
            cid
            for src, cid, ival in self.cache.entries()
            if src == self.source and ival == self.interval
        ]
        if self.tracked is not None:
            try:
                ids += list(self.tracked())
            except Exception as exc:  # e.g. the registry is down: refresh what is cached
                log.warning("candle refresher: cannot list the tracked assets: %s", redact(exc))
        out: dict[str, None] = {}
        for name in ids:
            try:
                out[resolve_asset(name).id] = None
            except Exception as exc:  # a stray file in the cache: skip it, say so
                log.warning("candle refresher: skipping %r: %s", name, exc)
        return list(out)

    def refresh_once(self) -> RefreshRun:
        """Refresh every series once (each coin's 4h candles before its daily ones, where the
        source has them); failures are recorded per series, never raised."""
        run = RefreshRun(started_at=self.clock())
        companions = companion_intervals(self.source, self.interval)
        fresh: list[str] = []  # coins with a new candle of this interval
        for crypto_id in self.series():
            for interval in (*companions, self.interval):
                name = crypto_id if interval == self.interval else f"{crypto_id} {interval}"
                try:
                    result = refresh_series(
                        resolve_asset(crypto_id),
                        interval,
                        self.source,
                        cache=self.cache,
                        **self.source_options,
                    )
                except Exception as exc:
                    # shown by /healthz: the kind of failure only; the log has the details
                    run.errors[name] = public_reason(exc)
                    log.warning(
                        "candle refresher: %s %s %s failed: %s: %s",
                        self.source,
                        crypto_id,
                        interval,
                        type(exc).__name__,
                        redact(exc),
                    )
                else:
                    run.added[name] = result.added
                    if interval == self.interval and result.added > 0:
                        fresh.append(crypto_id)
        run.finished_at = self.clock()
        self.runs += 1
        self.candles_added += sum(run.added.values())
        if run.ok:
            self._consecutive_failures = 0
            self.last_success_at = run.finished_at
        else:
            self.failures += 1
            self._consecutive_failures += 1
        self.last_run = run
        log.info(
            "candle refresher: %d series, %d new candle(s), %d failure(s)",
            len(run.added) + len(run.errors),
            sum(run.added.values()),
            len(run.errors),
        )
        if self.after_run is not None:
            try:
                self.after_run(run)
            except Exception as exc:
                log.warning("candle refresher: after-refresh job failed: %s", redact(exc))
        self._warm(run, fresh)
        return run

    def _warm(self, run: RefreshRun, fresh: list[str]) -> None:
        """Hand each coin of ``fresh`` (a new candle of this interval) to ``warm``."""
        if self.warm is None:
            return
        warmed: list[str] = []
        failed: dict[str, str] = {}
        for crypto_id in fresh:
            try:
                self.warm(crypto_id)
            except Exception as exc:  # the first request computes it instead
                failed[crypto_id] = public_reason(exc)
                log.warning(
                    "candle refresher: warming the serving state of %s failed: %s: %s",
                    crypto_id,
                    type(exc).__name__,
                    redact(exc),
                )
            else:
                warmed.append(crypto_id)
        if warmed:
            run.notes["warmed"] = warmed
        if failed:
            run.notes["warm_errors"] = failed

    def next_run_at(self, now: datetime) -> datetime:
        """When to run next: after the next candle close (plus delay and jitter), or sooner
        after a failure (back-off doubling from ``retry_seconds``)."""
        wait = self.delay_seconds + self.rng.uniform(0.0, self.jitter_seconds)
        at = next_candle_close(now, self.interval) + timedelta(seconds=wait)
        if self._consecutive_failures:
            backoff = min(
                self.retry_seconds * 2 ** (self._consecutive_failures - 1), MAX_RETRY_SECONDS
            )
            at = min(at, now + timedelta(seconds=backoff))
        return at

    def run(self, stop: threading.Event) -> None:
        """Refresh now, then after every candle close until ``stop`` is set."""
        while not stop.is_set():
            self.refresh_once()
            due = self.next_run_at(self.clock())
            log.info("candle refresher: next run at %s", due.isoformat())
            while not stop.is_set():
                left = (due - self.clock()).total_seconds()
                if left <= 0:
                    break
                stop.wait(min(left, MAX_WAIT_SECONDS))

    def status(self) -> dict[str, Any]:
        """Counters and the last run, JSON-ready."""
        last = self.last_run
        return {
            "source": self.source,
            "interval": self.interval,
            "runs": self.runs,
            "failures": self.failures,
            "candles_added": self.candles_added,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_run": None
            if last is None
            else {
                "started_at": last.started_at.isoformat(),
                "added": last.added,
                "errors": last.errors,
                "notes": last.notes,
            },
        }
