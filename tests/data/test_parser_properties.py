"""Property-based tests of the loaders (hypothesis): random malformed CSV files and Binance and
CoinGecko payloads give a ``DataError`` or valid candles, never another exception, and a
refused payload never changes the cached series.

The live sources run their real code (HTTP client, retries, parser, validation, cache) against
an ``httpx.MockTransport`` that answers the generated payload: no network.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptoforecast.data import CandleCache, load_ohlcv, validate_candles
from cryptoforecast.data.sources.pacing import RetryPolicy
from cryptoforecast.exceptions import DataError

DAY_MS = 86_400_000
CACHED_UNTIL = pd.Timestamp("2025-09-20", tz="UTC")  # last cached candle before each example
NOW = pd.Timestamp("2025-10-01 12:00", tz="UTC")
FIRST_NEW_MS = int((CACHED_UNTIL + pd.Timedelta(days=1)).timestamp() * 1000)
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
odd_numbers = st.sampled_from(
    ["NaN", "inf", "-inf", "-1", "0", "1e308", "-1e308", "1e-320", "abc", "", " 5 ", "0x10"]
)
odd_times = st.sampled_from([-(10**16), -1, 0, 10**17, 2**63, 1704067200, 1.5e12, "2025-09-21"])


def maybe(valid: Any, odd: st.SearchStrategy[Any], odds: int = 4) -> st.SearchStrategy[Any]:
    """The valid value, or one time in ``odds`` something malformed."""
    return st.integers(1, odds).flatmap(lambda k: odd if k == 1 else st.just(valid))


@st.composite
def price_row(draw: st.DrawFn) -> tuple[float, float, float, float, float]:
    """A consistent (open, high, low, close, volume), sometimes with a malformed field later."""
    open_, close = (draw(st.floats(min_value=1.0, max_value=1e5)) for _ in range(2))
    high = max(open_, close) * draw(st.floats(min_value=1.0, max_value=1.1))
    low = min(open_, close) * draw(st.floats(min_value=0.9, max_value=1.0))
    return open_, high, low, close, draw(st.floats(min_value=0.0, max_value=1e9))


@st.composite
def binance_payloads(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)  # not even an array of klines
    klines = []
    for i in range(draw(st.integers(0, 6))):
        open_ms = FIRST_NEW_MS + i * DAY_MS + draw(st.sampled_from([0, 0, 0, 1, -DAY_MS]))
        o, h, low, c, v = draw(price_row())
        fields: list[Any] = [
            open_ms, str(o), str(h), str(low), str(c), str(v), open_ms + DAY_MS - 1,
            str(v * c), 10, "0", "0", "0",
        ]  # fmt: skip
        fields = [
            draw(maybe(f, odd_times if k in (0, 6) else odd_numbers | json_values))
            for k, f in enumerate(fields)
        ]
        klines.append(fields[: draw(st.sampled_from([12, 12, 12, 8]))])
    return klines


@st.composite
def coingecko_payloads(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    n = draw(st.integers(0, 6))
    stamps = [FIRST_NEW_MS + DAY_MS * (i + 1) for i in range(n)]
    body: dict[str, Any] = {}
    for key in ("prices", "market_caps", "total_volumes"):
        points = []
        for ms in stamps:
            value = draw(st.floats(min_value=1.0, max_value=1e9))
            point = [draw(maybe(ms, odd_times)), draw(maybe(value, odd_numbers | json_values))]
            points.append(point[: draw(st.sampled_from([2, 2, 2, 1]))])
        body[key] = draw(maybe(points, json_values))
    if draw(st.booleans()):
        body.pop(draw(st.sampled_from(sorted(body))))
    return body


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_valid(frame: pd.DataFrame) -> None:
    again = validate_candles(frame, "1d", on_gap="drop", name="result")
    pd.testing.assert_frame_equal(again, frame, check_freq=False)
    assert frame.index.is_unique and frame.index.is_monotonic_increasing
    assert all(math.isfinite(x) and x > 0 for x in frame["close"])


def _run_live(source: str, payload: Any, **options: Any) -> None:
    cache = CandleCache()
    seed = load_ohlcv("bitcoin", end=CACHED_UNTIL.date().isoformat(), days=60)
    if source == "coingecko":
        seed = seed[["close", "volume"]].assign(market_cap=seed["close"] * 19e6)
    path = cache.write(seed, source, "bitcoin", "1d")
    before = _digest(path)
    body = json.dumps(payload, allow_nan=True).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    try:
        frame = load_ohlcv(
            "bitcoin",
            source=source,
            refresh=True,
            on_gap="drop",
            transport=httpx.MockTransport(answer),
            retry=RetryPolicy(max_attempts=1, base_delay=0.0, jitter=0.0),
            calls_per_minute=None,
            now=lambda: NOW,
            **options,
        )
    except DataError:
        assert _digest(path) == before, "a refused payload changed the cached series"
        return
    _assert_valid(frame)
    stored = cache.read(source, "bitcoin", "1d")
    assert stored is not None
    pd.testing.assert_frame_equal(stored, frame, check_freq=False)


@pytest.mark.slow
@SETTINGS
@given(payload=binance_payloads())
def test_binance_payloads_give_a_data_error_or_valid_candles(payload: Any) -> None:
    _run_live("binance", payload, base_url="http://binance.test")


@pytest.mark.slow
@SETTINGS
@given(payload=coingecko_payloads())
def test_coingecko_payloads_give_a_data_error_or_valid_candles(payload: Any) -> None:
    _run_live("coingecko", payload, base_url="http://coingecko.test/api/v3")


CSV_COLUMNS = ["open_time", "open", "high", "low", "close", "volume"]
header_names = st.sampled_from(
    [*CSV_COLUMNS, "Close", "OPEN_TIME", "timestamp", "date", "extra", "", "close "]
)
cell_text = st.one_of(
    odd_numbers,
    odd_times.map(str),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters='\r\n,"'), max_size=6),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=80))  # not even text
    columns = list(CSV_COLUMNS)
    if draw(st.integers(0, 3)) == 0:
        columns = draw(st.lists(header_names, min_size=1, max_size=8))
    start = pd.Timestamp("2024-01-01", tz="UTC")
    epoch_ms = draw(st.booleans())  # the whole file in one time format
    lines = [",".join(columns)]
    for i in range(draw(st.integers(0, 6))):
        o, h, low, c, v = draw(price_row())
        time = (start + pd.Timedelta(days=i)).isoformat()
        if epoch_ms:
            time = str(int((start + pd.Timedelta(days=i)).timestamp() * 1000))
        valid = {"open_time": time, "open": o, "high": h, "low": low, "close": c, "volume": v}
        cells = [str(draw(maybe(valid.get(col, ""), cell_text, odds=12))) for col in columns]
        lines.append(",".join(cells[: draw(st.sampled_from([len(cells)] * 9 + [1]))]))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.slow
@SETTINGS
@given(content=csv_files())
def test_csv_files_give_a_data_error_or_valid_candles(content: bytes, cf_home: Path) -> None:
    file = cf_home / "candles.csv"
    file.write_bytes(content)
    cache_before = sorted(p.name for p in cf_home.rglob("*"))
    try:
        frame = load_ohlcv("bitcoin", source="csv", path=file, on_gap="drop")
    except DataError:
        pass
    else:
        _assert_valid(frame)
    assert sorted(p.name for p in cf_home.rglob("*")) == cache_before
