"""The assets cryptoforecast knows: CoinGecko-style ids, exchange symbols and names.

The built-in assets (:data:`ASSETS`) and the coins the user imported from files (the catalogue,
:mod:`cryptoforecast.catalogue`, read when an id is resolved, never at import)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from cryptoforecast.catalogue import COIN_ID_PATTERN, read_catalogue
from cryptoforecast.exceptions import DataError

__all__ = [
    "ASSETS",
    "Asset",
    "builtin_clash",
    "file_asset",
    "known_assets",
    "resolve_asset",
    "snapshot_assets",
    "user_assets",
]


@dataclass(frozen=True)
class Asset:
    """One tradable asset. ``in_snapshot`` says whether the embedded data covers it;
    ``imported`` that its candles come from a file (``data import``, source ``csv``)."""

    id: str
    symbol: str
    name: str
    quote: str = "USDT"
    in_snapshot: bool = False
    imported: bool = False

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


def user_assets() -> list[Asset]:
    """The coins imported with ``cryptoforecast data import`` (read from the catalogue).

    Raises :class:`DataError` when the catalogue file is damaged (naming it and the fix)."""
    return [
        Asset(coin.id, coin.symbol, coin.name, imported=True)
        for coin in read_catalogue().coins.values()
    ]


def known_assets() -> list[Asset]:
    """The built-in assets, then the imported ones."""
    return [*ASSETS, *user_assets()]


def builtin_clash(key: str) -> Asset | None:
    """The built-in asset whose id, symbol or pair ``key`` spells (any case), or ``None``."""
    return _index().get(key.strip().lower())


def file_asset(crypto_id: str | Asset) -> Asset:
    """The asset of candles read from a file (``source="csv"`` with ``path=``): a known id as
    itself, any other lower-case slug as a coin of that id (``mycoin``: symbol ``MYCOIN``)."""
    try:
        return resolve_asset(crypto_id)
    except DataError:
        pass
    key = crypto_id.strip().lower() if isinstance(crypto_id, str) else ""
    if not COIN_ID_PATTERN.match(key):
        raise DataError(
            f"{crypto_id!r} cannot name a coin read from a file: use a lower-case id of letters, "
            "digits and '-' (e.g. mycoin), at most 64 characters"
        )
    return Asset(key, key.replace("-", "").upper()[:16], key, imported=True)


def resolve_asset(name: str | Asset) -> Asset:
    """Resolve a CoinGecko id (``bitcoin``), a symbol (``BTC``, ``btc``) or a pair (``BTCUSDT``),
    or the id or symbol of a coin imported with ``cryptoforecast data import``.

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
    imported = user_assets()
    for asset in imported:
        if key in (asset.id, asset.symbol.lower()):
            return asset
    every = [*ASSETS, *imported]
    by_key = {a.id: a.id for a in every} | {a.symbol.lower(): a.id for a in every}
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.5)
    ids = sorted({by_key[c] for c in close})
    hint = f" Did you mean: {', '.join(ids)}?" if ids else ""
    known = ", ".join(a.id for a in every)
    raise DataError(
        f"unknown asset id {name!r}.{hint} Known ids: {known}. For a coin of your own, import "
        f"its candles first: `cryptoforecast data import {key} FILE.csv`."
    )


def snapshot_assets() -> list[Asset]:
    """Assets covered by the embedded offline snapshot."""
    return [a for a in ASSETS if a.in_snapshot]
