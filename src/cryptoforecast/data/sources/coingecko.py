"""CoinGecko daily closes, volumes and market caps, async with a sync wrapper.

* ``GET /coins/list``: the id catalogue (``[{"id", "symbol", "name"}, ...]``), used by
  :meth:`CoinGeckoSource.resolve_id` to turn a symbol or id into a CoinGecko id.
* ``GET /coins/{id}/market_chart/range?vs_currency=usd&from=&to=`` (Unix seconds): a JSON object
  with ``prices``, ``market_caps`` and ``total_volumes``, each a list of ``[ms, value]``. For ranges
  over 90 days the points are daily at 00:00 UTC, and the list ends with a point stamped "now"
  that is not a daily close: it is dropped.

CoinGecko has no daily open, high or low, so its candles carry ``close volume market_cap`` only.
A point at day ``D`` 00:00 UTC is the price at the end of day ``D-1`` and its volume covers the 24
hours before it, so it becomes the candle whose open time is ``D-1`` (the same convention as an
exchange candle, whose close is known only when the candle ends).

API key: ``api_key=`` or ``$CRYPTOFORECAST_COINGECKO_API_KEY``, with ``plan="demo"`` (header
``x-cg-demo-api-key``, ``https://api.coingecko.com/api/v3``) or ``plan="pro"`` (header
``x-cg-pro-api-key``, ``https://pro-api.coingecko.com/api/v3``); ``$CRYPTOFORECAST_COINGECKO_PLAN``
sets the plan. The key is sent only in that header and never appears in logs or messages.
"""

from __future__ import annotations

import difflib
import os
from typing import TYPE_CHECKING, Any, Unpack

import pandas as pd

from cryptoforecast.assets import ASSETS, Asset
from cryptoforecast.data.sources.coingecko_payloads import parse_catalogue, parse_market_chart
from cryptoforecast.data.sources.http_source import HTTPOptions, HTTPSource, blocking
from cryptoforecast.exceptions import DataError, SourceError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "COINGECKO_KEY_ENV",
    "COINGECKO_PLAN_ENV",
    "COINGECKO_URL_ENV",
    "PRO_COINGECKO_URL",
    "PUBLIC_COINGECKO_URL",
    "CoinGeckoSource",
]

COINGECKO_URL_ENV = "CRYPTOFORECAST_COINGECKO_URL"
COINGECKO_KEY_ENV = "CRYPTOFORECAST_COINGECKO_API_KEY"
COINGECKO_PLAN_ENV = "CRYPTOFORECAST_COINGECKO_PLAN"
PUBLIC_COINGECKO_URL = "https://api.coingecko.com/api/v3"
PRO_COINGECKO_URL = "https://pro-api.coingecko.com/api/v3"
_HEADERS = {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class CoinGeckoSource(HTTPSource):
    """Daily ``close volume market_cap`` candles from CoinGecko.

    Args:
        base_url: API root; default ``$CRYPTOFORECAST_COINGECKO_URL`` (read at each call), else
            the public or pro root that matches the plan and key.
        api_key: default ``$CRYPTOFORECAST_COINGECKO_API_KEY``; sent only in the plan's header.
        plan: ``"demo"`` (default) or ``"pro"``; default ``$CRYPTOFORECAST_COINGECKO_PLAN``.
        history_days: how far back a first download goes when no ``start`` is given (default
            365 days, the limit of the public and demo plans; 3,650 with a pro key).
        **http: the :class:`~cryptoforecast.data.sources.http_source.HTTPOptions` (client,
            transport, retry, calls_per_minute (default 30: the free tier's budget),
            rate_limiter, timeout (default 20 s), now, sleep, clock, rng).
    """

    name = "coingecko"
    label = "CoinGecko"
    intervals = ("1d",)  # daily closes only: no 4h candles
    burst = 5
    default_calls_per_minute = 30.0
    default_timeout = 20.0

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        plan: str | None = None,
        history_days: int | None = None,
        **http: Unpack[HTTPOptions],
    ) -> None:
        self._base_url = base_url
        self._api_key = api_key
        self._plan = plan
        self.history_days = history_days
        self._catalogue: list[dict[str, str]] | None = None
        super().__init__(http, secrets=[api_key])

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        return f"CoinGeckoSource(base_url={self.base_url!r}, plan={self.plan!r}, api_key={key})"

    @property
    def api_key(self) -> str | None:
        """The key in use (argument, else environment), or ``None``."""
        key = self._api_key or os.environ.get(COINGECKO_KEY_ENV) or None
        self.fetcher.add_secret(key)
        return key

    @property
    def plan(self) -> str:
        """``"demo"`` or ``"pro"``."""
        plan = (self._plan or os.environ.get(COINGECKO_PLAN_ENV) or "demo").strip().lower()
        if plan not in _HEADERS:
            raise DataError(f"CoinGecko plan must be 'demo' or 'pro', got {plan!r}")
        return plan

    @property
    def base_url(self) -> str:
        """The API root in use."""
        explicit = self._base_url or os.environ.get(COINGECKO_URL_ENV)
        if explicit:
            return explicit.rstrip("/")
        return PRO_COINGECKO_URL if self.plan == "pro" and self.api_key else PUBLIC_COINGECKO_URL

    def headers(self) -> dict[str, str]:
        """Request headers: ``accept`` and, with a key, the plan's key header."""
        out = {"accept": "application/json"}
        key = self.api_key
        if key:
            out[_HEADERS[self.plan]] = key
        return out

    def _describe_error(self, response: httpx.Response) -> str:
        status = response.status_code
        url = str(response.request.url.copy_with(query=None))
        try:
            body = response.json()
        except ValueError:
            body = None
        detail: Any = None
        if isinstance(body, dict):
            detail = body.get("error")
            status_obj = body.get("status")
            if isinstance(status_obj, dict):
                detail = status_obj.get("error_message") or detail
            if isinstance(detail, dict):  # {"error": {"status": {"error_message": ...}}}
                nested = detail.get("status")
                message = nested.get("error_message") if isinstance(nested, dict) else None
                detail = message or str(detail)
        detail = str(detail)[:200] if detail is not None else None
        detail = detail or response.text[:200].strip() or response.reason_phrase
        hint = ""
        if status in (401, 403):
            hint = (
                f" Check the API key and plan: demo keys use {PUBLIC_COINGECKO_URL} with the "
                f"x-cg-demo-api-key header, pro keys {PRO_COINGECKO_URL} with x-cg-pro-api-key "
                f"(set {COINGECKO_KEY_ENV} and {COINGECKO_PLAN_ENV}). Free plans cover 365 days."
            )
        elif status == 404:
            hint = " Check the CoinGecko id (CoinGeckoSource.resolve_id finds it from a symbol)."
        return f"CoinGecko refused {url} with HTTP {status}: {detail}.{hint}"

    # ---------------------------------------------------------------- catalogue
    async def acatalogue(self) -> list[dict[str, str]]:
        """The ``/coins/list`` catalogue (fetched once per source object)."""
        if self._catalogue is None:
            payload = await self.fetcher.get_json(
                f"{self.base_url}/coins/list", headers=self.headers()
            )
            try:
                rows = parse_catalogue(payload)
            except SourceError as exc:  # the message quotes the payload, which may echo the key
                raise SourceError(self.fetcher.clean(str(exc))) from None
            self._catalogue = rows
        return self._catalogue

    async def aresolve_id(self, name: str) -> str:
        """The CoinGecko id for an id (``bitcoin``) or a symbol (``BTC``), from the catalogue.

        A symbol shared by several coins resolves to the one this package knows, else raises
        :class:`DataError` listing the candidates.
        """
        key = name.strip().lower()
        rows = await self.acatalogue()
        if any(r["id"] == key for r in rows):
            return key
        matches = [r["id"] for r in rows if r["symbol"].lower() == key]
        if len(matches) == 1:
            return matches[0]
        known = [m for m in matches if m in {a.id for a in ASSETS}]
        if len(known) == 1:
            return known[0]
        if matches:
            raise DataError(
                f"CoinGecko symbol {name!r} is shared by {len(matches)} coins ({', '.join(matches[:10])}); "
                "pass the CoinGecko id instead"
            )
        close = difflib.get_close_matches(key, [r["id"] for r in rows], n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise DataError(f"CoinGecko knows no coin with id or symbol {name!r}.{hint}")

    catalogue = blocking(acatalogue)
    resolve_id = blocking(aresolve_id)

    # ---------------------------------------------------------------- history
    async def afetch(
        self,
        asset: Asset | str,
        interval: str = "1d",
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Daily candles with open time in ``[start, end]`` (``close volume market_cap``).

        ``asset`` is an :class:`Asset` (its id is a CoinGecko id) or any id/symbol, resolved
        through the catalogue. Only ``interval="1d"`` exists: CoinGecko has no 4h candles.
        """
        if interval != "1d":
            raise DataError(
                f"CoinGecko gives daily closes only, got interval={interval!r}; use interval='1d' "
                "or source='binance' for 4h candles"
            )
        async with self.fetcher.session() as client:
            if isinstance(asset, Asset):
                coin_id = asset.id
            else:
                coin_id = await self.aresolve_id(asset)
            now = self.now()
            stop = min(_utc(end), now) if end is not None else now
            if start is not None:
                first = _utc(start)
            else:
                days = self.history_days or (3650 if self.plan == "pro" and self.api_key else 365)
                first = now.normalize() - pd.Timedelta(days=days)
            # Ranges of 90 days or less come back hourly: always ask for more than 90 days.
            ask_from = min(first + pd.Timedelta(days=1), now - pd.Timedelta(days=92))
            params = {
                "vs_currency": "usd",
                "from": int(ask_from.timestamp()),
                "to": int(now.timestamp()),
            }
            url = f"{self.base_url}/coins/{coin_id}/market_chart/range"
            payload = await self.fetcher.get_json(
                url, params=params, headers=self.headers(), client=client
            )
        try:
            frame = parse_market_chart(payload, f"CoinGecko {coin_id} 1d")
        except SourceError as exc:  # the message quotes the payload, which may echo the key
            raise SourceError(self.fetcher.clean(str(exc))) from None
        # A candle is complete once its day has ended.
        frame = frame[frame.index + pd.Timedelta(days=1) <= now]
        return frame[(frame.index >= first.floor("D")) & (frame.index <= stop)]

    fetch = blocking(afetch)
