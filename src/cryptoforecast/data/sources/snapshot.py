"""The embedded offline snapshot (Binance spot klines to 2025-09-30), shipped inside the package."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from cryptoforecast.assets import Asset
from cryptoforecast.data.sources.base import read_candle_csv
from cryptoforecast.exceptions import DataError

__all__ = ["SnapshotSource"]


class SnapshotSource:
    """Reads ``cryptoforecast/data/snapshot/{interval}/{SYMBOL}USDT.csv.gz`` via importlib.resources."""

    name = "snapshot"

    def fetch(
        self,
        asset: Asset,
        interval: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        if not asset.in_snapshot:
            raise DataError(
                f"the embedded snapshot has no data for {asset.id!r}; it covers bitcoin, ethereum, "
                "binancecoin, solana, cardano, dogecoin, avalanche-2 and litecoin. "
                "Use source='binance' or source='coingecko' for other assets."
            )
        ref = (
            resources.files("cryptoforecast.data")
            / "snapshot"
            / interval
            / f"{asset.binance_symbol}.csv.gz"
        )
        if not ref.is_file():
            raise DataError(f"the embedded snapshot has no {interval} candles for {asset.id!r}")
        with ref.open("rb") as fh:
            return read_candle_csv(fh, f"snapshot {asset.id} {interval}", compression="gzip")
