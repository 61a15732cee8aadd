"""``--end`` of the commands that read candles: refused in the future or after the last candle."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from cryptoforecast.data.times import parse_time
from cryptoforecast.exceptions import DataError

__all__ = ["check_end"]


def check_end(end: str | None, last_candle: pd.Timestamp | None, source: str) -> None:
    """Refuse an ``--end`` in the future or after the last candle the source has (no silent clip)."""
    if end is None:
        return
    ts, _ = parse_time(end, "--end")
    if ts > pd.Timestamp(datetime.now(UTC)):
        raise DataError(f"--end {end} is in the future; give a past date or leave --end out")
    if last_candle is not None and ts.normalize() > last_candle.normalize():
        raise DataError(
            f"--end {end} is after the last candle of --source {source} "
            f"({last_candle:%Y-%m-%d}); give --end {last_candle:%Y-%m-%d} or earlier, "
            "or use a live source (--source binance) for later candles"
        )
