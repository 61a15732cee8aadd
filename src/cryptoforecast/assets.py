"""The assets cryptoforecast knows: CoinGecko-style ids, exchange symbols and names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from cryptoforecast.exceptions import DataError

__all__ = ["ASSETS", "Asset", "resolve_asset", "snapshot_assets"]


@dataclass(frozen=True)
class Asset:
    """One tradable asset. ``in_snapshot`` says whether the embedded data covers it."""

    id: str
    symbol: str
    name: str
    quote: str = "USDT"
    in_snapshot: bool = False

    @property
    def binance_symbol(self) -> str:
        return f"{self.symbol}{self.quote}"


ASSETS: tuple[Asset, ...] = (
    Asset("bitcoin", "BTC", "Bitcoin", in_snapshot=True),
    Asset("ethereum", "ETH", "Ethereum", in_snapshot=True),
    Asset("binancecoin", "BNB", "BNB", in_snapshot=True),
    Asset("solana", "SOL", "Solana", in_snapshot=True),
    Asset("cardano", "ADA", "Cardano", in_snapshot=True),
    Asset("dogecoin", "DOGE", "Dogecoin", in_snapshot=True),
    Asset("avalanche-2", "AVAX", "Avalanche", in_snapshot=True),
    Asset("litecoin", "LTC", "Litecoin", in_snapshot=True),
    Asset("ripple", "XRP", "XRP"),
    Asset("chainlink", "LINK", "Chainlink"),
    Asset("polkadot", "DOT", "Polkadot"),
    Asset("tron", "TRX", "TRON"),
)

_QUOTES = ("USDT", "USDC", "BUSD", "USD")


def _index() -> dict[str, Asset]:
    idx: dict[str, Asset] = {}
    for asset in ASSETS:
        idx[asset.id] = asset
        idx[asset.symbol.lower()] = asset
        idx[asset.binance_symbol.lower()] = asset
    return idx


def resolve_asset(name: str | Asset) -> Asset:
    """Resolve a CoinGecko id (``bitcoin``), a symbol (``BTC``, ``btc``) or a pair (``BTCUSDT``).

    Raises :class:`DataError` naming the closest known ids when nothing matches.
    """
    if isinstance(name, Asset):
        return name
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"asset id must be a non-empty string, got {name!r}")
    key = name.strip().lower()
    idx = _index()
    if key in idx:
        return idx[key]
    for quote in _QUOTES:
        q = quote.lower()
        if key.endswith(q) and key[: -len(q)] in idx:
            return idx[key[: -len(q)]]
    close = difflib.get_close_matches(
        key, [a.id for a in ASSETS] + [a.symbol.lower() for a in ASSETS], n=3, cutoff=0.5
    )
    ids = sorted({idx[c].id for c in close})
    hint = f" Did you mean: {', '.join(ids)}?" if ids else ""
    known = ", ".join(a.id for a in ASSETS)
    raise DataError(f"unknown asset id {name!r}.{hint} Known ids: {known}.")


def snapshot_assets() -> list[Asset]:
    """Assets covered by the embedded offline snapshot."""
    return [a for a in ASSETS if a.in_snapshot]
