"""Binance spot klines (``GET /api/v3/klines``), async with a sync wrapper.

The answer to ``/api/v3/klines`` is an array of arrays::

    [open_time_ms, open, high, low, close, volume, close_time_ms,
     quote_volume, trades, taker_base_volume, taker_quote_volume, ignore]

with prices and volumes as strings. :class:`BinanceSource` pages through it by start time
(1,000 candles a page), checks every field before anything is kept, and drops the candle that is
still open (``close_time`` not yet passed). The global endpoint answers HTTP 451 to users in the
United States, who use ``https://api.binance.us`` (same API) instead: set ``base_url=`` or
``$CRYPTOFORECAST_BINANCE_URL``.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Unpack

import pandas as pd

from cryptoforecast.assets import Asset
from cryptoforecast.data.schema import MAX_EPOCH_MS, MIN_EPOCH_MS, check_interval, stamp
from cryptoforecast.data.sources.http_source import HTTPOptions, HTTPSource, blocking
from cryptoforecast.exceptions import DataError, SourceError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BINANCE_URL_ENV",
    "DEFAULT_BINANCE_URL",
    "US_BINANCE_URL",
    "BinanceSource",
    "parse_klines",
]

BINANCE_URL_ENV = "CRYPTOFORECAST_BINANCE_URL"
DEFAULT_BINANCE_URL = "https://api.binance.com"
US_BINANCE_URL = "https://api.binance.us"
KLINE_COLUMNS = ("open", "high", "low", "close", "volume", "quote_volume", "trades")
# (position in the kline array, column name)
_NUMERIC_FIELDS = (
    (1, "open"),
    (2, "high"),
    (3, "low"),
    (4, "close"),
    (5, "volume"),
    (7, "quote_volume"),
    (8, "trades"),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    """``value`` as a finite float (Binance sends numeric strings), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value)
        except ValueError:
            return None
    else:
        return None
    return out if math.isfinite(out) else None


def parse_klines(
    payload: Any, label: str, first_row: int = 0
) -> list[tuple[int, int, list[float]]]:
    """Check one page of klines and return ``(open_time_ms, close_time_ms, values)`` per row.

    ``values`` follow :data:`KLINE_COLUMNS`. ``first_row`` numbers the rows across pages so a
    :class:`SourceError` names the position of a bad field in the whole download.
    """
    if not isinstance(payload, list):
        raise SourceError(
            f"{label}: expected a JSON array of klines, got {type(payload).__name__} "
            f"({str(payload)[:120]}). Check base_url points at the Binance API."
        )
    rows: list[tuple[int, int, list[float]]] = []
    previous: int | None = None
    for i, raw in enumerate(payload):
        pos = first_row + i
        if not isinstance(raw, list) or len(raw) < 9:
            raise SourceError(
                f"{label}: kline #{pos} should be an array of 12 fields, got {str(raw)[:120]}"
            )
        open_ms, close_ms = raw[0], raw[6]
        if not _is_int(open_ms) or not MIN_EPOCH_MS <= open_ms <= MAX_EPOCH_MS:
            raise SourceError(
                f"{label}: kline #{pos} field 'open_time' (index 0) = {open_ms!r:.40} is not an "
                f"integer time in ms from {MIN_EPOCH_MS} (1970) to {MAX_EPOCH_MS} (2100)"
            )
        if not _is_int(close_ms) or not open_ms < close_ms <= MAX_EPOCH_MS:
            raise SourceError(
                f"{label}: kline #{pos} ({stamp(open_ms)}) field 'close_time' (index 6) = {close_ms!r} "
                "is not an integer after open_time"
            )
        if previous is not None and open_ms <= previous:
            raise SourceError(
                f"{label}: kline #{pos} open_time {stamp(open_ms)} is not after the previous one "
                f"({stamp(previous)}); klines must be sorted and unique"
            )
        values: list[float] = []
        for index, name in _NUMERIC_FIELDS:
            number = _number(raw[index])
            if number is None:
                raise SourceError(
                    f"{label}: kline #{pos} ({stamp(open_ms)}) field {name!r} (index {index}) = "
                    f"{raw[index]!r} is not a finite number"
                )
            values.append(number)
        rows.append((open_ms, close_ms, values))
        previous = open_ms
    return rows


def _to_ms(value: Any) -> int:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


class BinanceSource(HTTPSource):
    """Spot klines from Binance (or Binance.US), as raw candles in the candle schema.

    Args:
        base_url: API root; default ``$CRYPTOFORECAST_BINANCE_URL`` (read at each call), else
            ``https://api.binance.com``. US users: ``https://api.binance.us``.
        page_limit: candles per request (Binance allows up to 1,000).
        **http: the :class:`~cryptoforecast.data.sources.http_source.HTTPOptions` (client,
            transport, retry, calls_per_minute (default 600), rate_limiter, timeout (default
            15 s), now, sleep, clock, rng).
    """

    name = "binance"
    label = "Binance"
    intervals = ("1d", "4h")
    burst = 10
    default_calls_per_minute = 600.0
    default_timeout = 15.0

    def __init__(
        self, base_url: str | None = None, page_limit: int = 1000, **http: Unpack[HTTPOptions]
    ) -> None:
        if not 1 <= page_limit <= 1000:
            raise DataError(
                f"page_limit must be between 1 and 1000 (Binance's maximum), got {page_limit}"
            )
        self._base_url = base_url
        self.page_limit = page_limit
        super().__init__(http)

    @property
    def base_url(self) -> str:
        """The API root in use (argument, else environment, else the global endpoint)."""
        return (self._base_url or os.environ.get(BINANCE_URL_ENV) or DEFAULT_BINANCE_URL).rstrip(
            "/"
        )

    def _describe_error(self, response: httpx.Response) -> str:
        status = response.status_code
        url = str(response.request.url.copy_with(query=None))
        if status == 451:
            return (
                f"Binance answered HTTP 451 (unavailable for legal reasons) from {url}: the global "
                "endpoint refuses requests from the United States. US users should use Binance.US, "
                f"which has the same API: pass base_url='{US_BINANCE_URL}' or set "
                f"{BINANCE_URL_ENV}={US_BINANCE_URL}."
            )
        symbol = response.request.url.params.get("symbol", "?")
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "msg" in body:
            hint = (
                " Check the asset is listed on this endpoint (Binance.US lists fewer pairs)."
                if body.get("code") == -1121
                else ""
            )
            return (
                f"Binance refused klines for symbol {symbol!r} (HTTP {status}, code "
                f"{body.get('code')}: {body.get('msg')}).{hint}"
            )
        text = response.text[:200].strip() or response.reason_phrase
        return f"Binance refused klines for symbol {symbol!r} with HTTP {status}: {text}"

    async def afetch(
        self,
        asset: Asset,
        interval: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Closed candles with open time in ``[start, end]`` (all history when ``start`` is None).

        Returns a raw frame (UTC ``timestamp`` index; float ``open high low close volume
        quote_volume trades``); :func:`~cryptoforecast.data.validate_candles` checks it further.
        Raises :class:`SourceError` on HTTP failure or a bad payload (naming field and position).
        """
        step = check_interval(interval)
        step_ms = int(step.total_seconds() * 1000)
        symbol = asset.binance_symbol
        label = f"Binance {symbol} {interval}"
        now_ms = _to_ms(self.now())
        start_ms = _to_ms(start) if start is not None else 0
        end_ms = min(_to_ms(end), now_ms) if end is not None else now_ms
        url = f"{self.base_url}/api/v3/klines"
        rows: list[tuple[int, int, list[float]]] = []
        async with self.fetcher.session() as client:
            while start_ms <= end_ms:
                params = {
                    "symbol": symbol,
                    "interval": interval,
                    "startTime": start_ms,
                    "endTime": end_ms,
                    "limit": self.page_limit,
                }
                payload = await self.fetcher.get_json(url, params=params, client=client)
                page = parse_klines(payload, label, first_row=len(rows))
                if not page:
                    break
                if rows and page[0][0] <= rows[-1][0]:
                    raise SourceError(
                        f"{label}: page starting at kline #{len(rows)} ({stamp(page[0][0])}) does not "
                        f"follow the previous page (last {stamp(rows[-1][0])}); the server ignored startTime"
                    )
                rows.extend(page)
                if len(page) < self.page_limit:
                    break
                start_ms = page[-1][0] + step_ms
        complete = [r for r in rows if r[1] < now_ms]
        index = pd.DatetimeIndex(
            pd.to_datetime([r[0] for r in complete], unit="ms", utc=True), name="timestamp"
        )
        return pd.DataFrame(
            [r[2] for r in complete], index=index, columns=list(KLINE_COLUMNS), dtype="float64"
        )

    fetch = blocking(afetch)
