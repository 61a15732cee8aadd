"""Live sources through the local cache (Binance, CoinGecko)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cryptoforecast.data.assets import Asset
from cryptoforecast.exceptions import DataError

__all__ = ["load_live"]


def load_live(asset: Asset, interval: str, source: str, refresh: bool = False, **options: Any) -> pd.DataFrame:
    raise DataError(f"live source {source!r} is not available in this build; use source='snapshot'")
