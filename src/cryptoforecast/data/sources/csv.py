"""User-supplied CSV files in the shared format (``open_time`` ISO 8601 UTC or epoch ms)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cryptoforecast.assets import Asset
from cryptoforecast.data.sources.base import read_candle_csv
from cryptoforecast.exceptions import DataError

__all__ = ["CSVSource"]


class CSVSource:
    """Reads one CSV file of candles (plain or .gz)."""

    name = "csv"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def fetch(
        self,
        asset: Asset,
        interval: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        if not self.path.is_file():
            raise DataError(
                f"CSV file not found: {self.path}. Pass path= pointing to an existing file."
            )
        return read_candle_csv(self.path, str(self.path))
