"""Local servers that speak the Binance and CoinGecko formats, for tests (pytest-httpserver).

They serve the real candles of ``../shared/data/binance`` (or, when that folder is missing, the
package's embedded snapshot, which holds the same candles), so code that calls
``load_ohlcv(..., source="binance")`` gets the same history it would get from the snapshot.
Nothing here touches the internet: the server listens on the loopback address.

Quick start (any test area)::

    from tests.live_servers import use_binance_server

    def test_something(httpserver, monkeypatch):
        fake = use_binance_server(httpserver, monkeypatch)   # sets $CRYPTOFORECAST_BINANCE_URL
        df = load_ohlcv("bitcoin", source="binance", refresh=True)
        assert len(fake.requests) == 3                       # 2,750 daily candles, 1,000 a page

Or pass the URL explicitly: ``load_ohlcv("bitcoin", source="binance", base_url=fake.base_url)``.
To keep tests fast, also pass ``retry=RetryPolicy(base_delay=0.001)`` and ``calls_per_minute=None``
when you inject failures.

Functions:

* :func:`shared_candles` -- the candles of one symbol and interval as a frame.
* :func:`install_binance` / :func:`use_binance_server` -- ``GET /api/v3/klines``.
* :func:`install_coingecko` / :func:`use_coingecko_server` -- ``GET /api/v3/coins/list`` and
  ``GET /api/v3/coins/{id}/market_chart/range``.
* :func:`fail_next`, :func:`respond_next`, :func:`delay_next` -- one-shot failures served before
  the normal handler (429 with Retry-After, 500s, truncated JSON, a slow answer...).

The fakes keep a log of the requests they answered (``fake.requests``: the query parameters as a
dict, plus ``"path"``), and their candles can be changed between calls (``fake.set_candles``) to
simulate time passing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cryptoforecast.assets import ASSETS, resolve_asset

__all__ = [
    "BINANCE_KLINES_PATH",
    "COINGECKO_PREFIX",
    "BinanceFake",
    "CoinGeckoFake",
    "delay_next",
    "fail_next",
    "install_binance",
    "install_coingecko",
    "respond_next",
    "shared_candles",
    "use_binance_server",
    "use_coingecko_server",
]

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance"
BINANCE_KLINES_PATH = "/api/v3/klines"
COINGECKO_PREFIX = "/api/v3"
COINGECKO_CHART_RE = re.compile(r"^/api/v3/coins/(?P<id>[^/]+)/market_chart/range$")
_STEP_MS = {"1d": 86_400_000, "4h": 14_400_000}
DAY_MS = 86_400_000


@lru_cache(maxsize=32)
def _load(symbol: str, interval: str, data_dir: str | None) -> pd.DataFrame:
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.data.sources.base import read_candle_csv

    folder = Path(data_dir) if data_dir else SHARED_DATA
    name = "csv" if interval == "1d" else "csv.gz"
    file = folder / interval / f"{symbol}.{name}"
    if file.is_file():
        frame = read_candle_csv(file, str(file))
        frame = frame[["open", "high", "low", "close", "volume", "quote_volume", "trades"]].astype(
            "float64"
        )
        frame.index = frame.index.as_unit("us")
        return frame
    return load_ohlcv(symbol, interval=interval, on_gap="drop")


def shared_candles(
    asset: str,
    interval: str = "1d",
    end: Any = None,
    days: int | None = None,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Candles of ``asset`` (id, symbol or pair) from ``../shared/data/binance`` (else the snapshot).

    Args:
        asset: ``"bitcoin"``, ``"BTC"`` or ``"BTCUSDT"``.
        interval: ``"1d"`` or ``"4h"``.
        end: keep candles opened on or before this time (e.g. ``"2025-06-30"``), to let a test
            serve a shorter history first and extend it later with ``fake.set_candles``.
        days: keep only the last ``days`` candles (after ``end``).
        data_dir: another folder in the shared layout (``1d/SYMBOL.csv``, ``4h/SYMBOL.csv.gz``).

    Returns a copy (UTC ``timestamp`` index; float ``open high low close volume quote_volume trades``).
    """
    symbol = resolve_asset(asset).binance_symbol
    frame = _load(symbol, interval, str(data_dir) if data_dir else None).copy()
    if end is not None:
        stop = pd.Timestamp(end)
        stop = stop.tz_localize("UTC") if stop.tzinfo is None else stop
        frame = frame[frame.index <= stop]
    if days is not None:
        frame = frame.iloc[-days:]
    return frame


def _ms(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000)  # Timestamp.value is in ns whatever the unit


def _price(x: float) -> str:
    text = f"{x:.8f}"
    return text if float(text) == x else repr(float(x))


def klines_rows(frame: pd.DataFrame, interval: str) -> list[list[Any]]:
    """``frame`` as Binance kline arrays (prices and volumes as strings, trades as an int)."""
    step = _STEP_MS[interval]
    rows = []
    for ts, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        open_ms = _ms(ts)
        rows.append(
            [
                open_ms,
                _price(row.open),
                _price(row.high),
                _price(row.low),
                _price(row.close),
                _price(row.volume),
                open_ms + step - 1,
                _price(getattr(row, "quote_volume", 0.0)),
                int(getattr(row, "trades", 0)),
                "0",
                "0",
                "0",
            ]
        )
    return rows


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


@dataclass
class BinanceFake:
    """State of the Binance-format server installed by :func:`install_binance`.

    Attributes:
        base_url: the server's root, to pass as ``base_url=`` or ``$CRYPTOFORECAST_BINANCE_URL``.
        symbols: the pairs it lists (others answer ``{"code": -1121, "msg": "Invalid symbol."}``).
        requests: query parameters of every klines request answered by the normal handler.
        open_candle: when true, a still-open candle follows the last one (open time one interval
            later, ``close_time`` at its end); a client whose ``now`` is before that end drops it.
        fail_after: when set, every klines request after the first ``fail_after`` answers HTTP
            ``fail_status`` (a download that breaks halfway through its pages).
    """

    base_url: str
    symbols: set[str]
    open_candle: bool = False
    fail_after: int | None = None
    fail_status: int = 500
    requests: list[dict[str, Any]] = field(default_factory=list)
    overrides: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    _rows: dict[tuple[str, str], list[list[Any]]] = field(default_factory=dict)

    def candles(self, symbol: str, interval: str) -> pd.DataFrame:
        """The candles served for ``symbol`` (``BTCUSDT``) and ``interval``."""
        key = (symbol, interval)
        if key not in self.overrides:
            self.overrides[key] = shared_candles(symbol, interval)
        return self.overrides[key]

    def set_candles(self, asset: str, interval: str, frame: pd.DataFrame) -> None:
        """Serve ``frame`` for ``asset`` from now on (e.g. a longer history: time has passed)."""
        symbol = resolve_asset(asset).binance_symbol
        self.symbols.add(symbol)
        self.overrides[(symbol, interval)] = frame
        self._rows.pop((symbol, interval), None)

    def handle(self, request: Request) -> Response:
        """The ``/api/v3/klines`` handler (Binance semantics for startTime/endTime/limit)."""
        args = request.args
        self.requests.append({"path": request.path, **args.to_dict()})
        if self.fail_after is not None and len(self.requests) > self.fail_after:
            return _json({"code": -1001, "msg": "Internal error."}, status=self.fail_status)
        symbol, interval = args.get("symbol", ""), args.get("interval", "")
        if symbol not in self.symbols:
            return _json({"code": -1121, "msg": "Invalid symbol."}, status=400)
        if interval not in _STEP_MS:
            return _json({"code": -1120, "msg": "Invalid interval."}, status=400)
        try:
            limit = int(args.get("limit", 500))
        except ValueError:
            return _json(
                {"code": -1100, "msg": "Illegal characters found in parameter 'limit'."}, status=400
            )
        if not 1 <= limit <= 1000:
            return _json({"code": -1130, "msg": "Invalid data sent for a parameter."}, status=400)
        frame = self.candles(symbol, interval)
        if (symbol, interval) not in self._rows:
            self._rows[(symbol, interval)] = klines_rows(frame, interval)
        rows = list(self._rows[(symbol, interval)])
        if self.open_candle and rows:
            last = rows[-1]
            step = _STEP_MS[interval]
            rows.append(
                [
                    last[0] + step,
                    last[4],
                    last[4],
                    last[4],
                    last[4],
                    "1.0",
                    last[0] + 2 * step - 1,
                    "1.0",
                    1,
                    "0",
                    "0",
                    "0",
                ]
            )
        start = int(args["startTime"]) if "startTime" in args else None
        end = int(args["endTime"]) if "endTime" in args else None
        if start is not None:
            rows = [r for r in rows if r[0] >= start]
        if end is not None:
            rows = [r for r in rows if r[0] <= end]
        rows = rows[:limit] if start is not None else rows[-limit:]
        return _json(rows)


def install_binance(
    server: HTTPServer,
    symbols: list[str] | None = None,
    open_candle: bool = False,
) -> BinanceFake:
    """Answer ``GET /api/v3/klines`` on ``server`` like Binance, from the shared candles.

    Args:
        server: the pytest-httpserver ``httpserver`` fixture.
        symbols: assets to list (ids, symbols or pairs); default the 8 of the shared data.
        open_candle: add a still-open candle after the last one (see :class:`BinanceFake`).

    Pages hold at most ``limit`` (<= 1,000) candles from ``startTime``; an unknown symbol gets
    HTTP 400 ``{"code": -1121, "msg": "Invalid symbol."}``. Returns the :class:`BinanceFake`.
    """
    names = symbols or [a.id for a in ASSETS if a.in_snapshot]
    fake = BinanceFake(
        base_url=server.url_for("").rstrip("/"),
        symbols={resolve_asset(s).binance_symbol for s in names},
        open_candle=open_candle,
    )
    server.expect_request(BINANCE_KLINES_PATH, method="GET").respond_with_handler(fake.handle)
    return fake


def use_binance_server(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> BinanceFake:
    """:func:`install_binance` and point ``$CRYPTOFORECAST_BINANCE_URL`` at it for this test."""
    fake = install_binance(server, **kwargs)
    monkeypatch.setenv("CRYPTOFORECAST_BINANCE_URL", fake.base_url)
    return fake


@dataclass
class CoinGeckoFake:
    """State of the CoinGecko-format server installed by :func:`install_coingecko`.

    Attributes:
        base_url: the API root (``.../api/v3``), for ``base_url=`` or ``$CRYPTOFORECAST_COINGECKO_URL``.
        ids: the coin ids with history (others answer 404 ``{"error": "coin not found"}``).
        api_key, plan: when a key is set, requests without the plan's header
            (``x-cg-demo-api-key`` / ``x-cg-pro-api-key``) with that key get HTTP 401.
        now_point: append the trailing point stamped "now" (at ``to``) as CoinGecko does.
        requests: query parameters (plus ``"path"`` and ``"headers"``) of every answered request.
    """

    base_url: str
    ids: set[str]
    api_key: str | None = None
    plan: str = "demo"
    now_point: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)
    overrides: dict[str, pd.DataFrame] = field(default_factory=dict)
    extra_catalogue: list[dict[str, str]] = field(default_factory=list)

    def candles(self, coin_id: str) -> pd.DataFrame:
        """The daily exchange candles behind ``coin_id``'s points."""
        return (
            self.overrides[coin_id] if coin_id in self.overrides else shared_candles(coin_id, "1d")
        )

    def set_candles(self, coin_id: str, frame: pd.DataFrame) -> None:
        """Serve ``frame`` (daily candles) for ``coin_id`` from now on."""
        self.ids.add(coin_id)
        self.overrides[coin_id] = frame

    def _log(self, request: Request) -> None:
        self.requests.append(
            {"path": request.path, "headers": dict(request.headers), **request.args.to_dict()}
        )

    def _auth_error(self, request: Request) -> Response | None:
        if self.api_key is None:
            return None
        header = "x-cg-pro-api-key" if self.plan == "pro" else "x-cg-demo-api-key"
        if request.headers.get(header) != self.api_key:
            return _json(
                {"status": {"error_code": 10002, "error_message": "API Key Missing or invalid"}},
                status=401,
            )
        return None

    def handle_list(self, request: Request) -> Response:
        """``/coins/list``: every known asset plus look-alikes sharing their symbols."""
        self._log(request)
        denied = self._auth_error(request)
        if denied is not None:
            return denied
        rows = [{"id": a.id, "symbol": a.symbol.lower(), "name": a.name} for a in ASSETS]
        return _json(rows + self.extra_catalogue)

    def handle_chart(self, request: Request) -> Response:
        """``/coins/{id}/market_chart/range``: daily points at 00:00 UTC (+ a "now" point).

        A point at day ``D`` carries the close of the candle opened at ``D - 1``; volumes are the
        quote (USD) volume; market cap is close x a fixed supply. Ranges of 90 days or less get
        4-hourly points instead, as CoinGecko returns finer points for short ranges.
        """
        self._log(request)
        denied = self._auth_error(request)
        if denied is not None:
            return denied
        match = COINGECKO_CHART_RE.match(request.path)
        coin_id = match.group("id") if match else ""
        if coin_id not in self.ids:
            return _json({"error": "coin not found"}, status=404)
        if request.args.get("vs_currency") != "usd":
            return _json({"error": "invalid vs_currency"}, status=400)
        try:
            lo, hi = int(request.args["from"]) * 1000, int(request.args["to"]) * 1000
        except (KeyError, ValueError):
            return _json({"error": "from and to must be Unix seconds"}, status=400)
        if hi - lo <= 90 * DAY_MS:
            frame = shared_candles(coin_id, "4h")
            step = _STEP_MS["4h"]
        else:
            frame = self.candles(coin_id)
            step = DAY_MS
        times = [_ms(t) + step for t in frame.index]
        keep = [i for i, t in enumerate(times) if lo <= t <= hi]
        close = frame["close"].to_numpy()
        volume = (
            frame["quote_volume"].to_numpy()
            if "quote_volume" in frame
            else frame["volume"].to_numpy()
        )
        prices = [[times[i], float(close[i])] for i in keep]
        caps = [[times[i], float(close[i]) * 1e7] for i in keep]
        vols = [[times[i], float(volume[i])] for i in keep]
        if self.now_point and prices and hi % DAY_MS != 0 and hi > prices[-1][0]:
            last = prices[-1][1] * 1.01
            prices.append([hi, last])
            caps.append([hi, last * 1e7])
            vols.append([hi, vols[-1][1] * 0.5])
        return _json({"prices": prices, "market_caps": caps, "total_volumes": vols})


def install_coingecko(
    server: HTTPServer,
    ids: list[str] | None = None,
    api_key: str | None = None,
    plan: str = "demo",
    now_point: bool = True,
) -> CoinGeckoFake:
    """Answer CoinGecko's ``/api/v3/coins/list`` and ``/api/v3/coins/{id}/market_chart/range``.

    Args:
        server: the pytest-httpserver ``httpserver`` fixture.
        ids: coin ids with history; default the 8 of the shared data.
        api_key: require this key in the plan's header (401 otherwise).
        plan: ``"demo"`` or ``"pro"`` (which header carries the key).
        now_point: end each chart with CoinGecko's trailing "now" point.

    The catalogue also lists ``ethereum-wormhole`` (symbol ``eth``) so symbol look-ups meet a
    shared symbol, as they do on the real catalogue. Returns the :class:`CoinGeckoFake`.
    """
    names = ids or [a.id for a in ASSETS if a.in_snapshot]
    fake = CoinGeckoFake(
        base_url=server.url_for(COINGECKO_PREFIX).rstrip("/"),
        ids={resolve_asset(n).id for n in names},
        api_key=api_key,
        plan=plan,
        now_point=now_point,
        extra_catalogue=[
            {"id": "ethereum-wormhole", "symbol": "eth", "name": "Ethereum (Wormhole)"}
        ],
    )
    server.expect_request(f"{COINGECKO_PREFIX}/coins/list", method="GET").respond_with_handler(
        fake.handle_list
    )
    server.expect_request(COINGECKO_CHART_RE, method="GET").respond_with_handler(fake.handle_chart)
    return fake


def use_coingecko_server(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> CoinGeckoFake:
    """:func:`install_coingecko` and point ``$CRYPTOFORECAST_COINGECKO_URL`` at it for this test."""
    fake = install_coingecko(server, **kwargs)
    monkeypatch.setenv("CRYPTOFORECAST_COINGECKO_URL", fake.base_url)
    return fake


def respond_next(
    server: HTTPServer,
    path: str | re.Pattern[str],
    body: str | bytes,
    status: int = 200,
    headers: dict[str, str] | None = None,
    times: int = 1,
    content_type: str = "application/json",
) -> None:
    """Serve ``body`` for the next ``times`` requests to ``path``, before the normal handler.

    E.g. truncated JSON: ``respond_next(server, BINANCE_KLINES_PATH, '[[1700000000000, "1.0"')``.
    """
    for _ in range(times):
        server.expect_oneshot_request(path).respond_with_data(
            body, status=status, headers=headers, content_type=content_type
        )


def fail_next(
    server: HTTPServer,
    path: str | re.Pattern[str],
    status: int = 500,
    times: int = 1,
    retry_after: float | str | None = None,
    body: Any = None,
) -> None:
    """Answer the next ``times`` requests to ``path`` with HTTP ``status`` (JSON ``body``).

    ``retry_after`` adds a ``Retry-After`` header (seconds or an HTTP date), as Binance and
    CoinGecko send with 429.
    """
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    payload = json.dumps(body if body is not None else {"code": -1000, "msg": f"status {status}"})
    respond_next(server, path, payload, status=status, headers=headers, times=times)


def delay_next(
    server: HTTPServer,
    path: str | re.Pattern[str],
    seconds: float,
    then: Callable[[Request], Response] | None = None,
) -> None:
    """Answer the next request to ``path`` only after ``seconds`` (to trigger a client timeout).

    The server is single-threaded: it answers nothing else meanwhile, so keep ``seconds`` small
    (just above the client's ``timeout``).
    """

    def slow(request: Request) -> Response:
        time.sleep(seconds)
        return then(request) if then is not None else _json([])

    server.expect_oneshot_request(path).respond_with_handler(slow)
