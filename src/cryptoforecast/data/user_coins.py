"""Importing a coin of the user's own from a CSV file: ``cryptoforecast data import``.

The file is read by the CSV source and checked by :func:`~cryptoforecast.data.schema.validate_candles`
(whose errors reach the user as they are); the candles go to the local candle cache under
source ``csv`` and the coin to the catalogue (:mod:`cryptoforecast.catalogue`), so later commands
and the service know it without the file. Both writes are atomic, and a file that fails any
check changes nothing: the cache and the catalogue keep what they held. A re-import replaces the
coin's candles of that interval.

Ids: a lower-case slug (``mycoin``, ``my-coin``). The id, symbol or pair of a built-in asset is
refused (``bitcoin``, ``BTC``): a file's candles under a built-in's name would be mistaken for
the exchange's, and every command would have to guess which is meant.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cryptoforecast.assets import builtin_clash, file_asset
from cryptoforecast.catalogue import (
    COIN_ID_PATTERN,
    Catalogue,
    CatalogueCoin,
    SeriesInfo,
    catalogue_path,
    dump_catalogue,
    read_catalogue,
)
from cryptoforecast.data.cache import CandleCache, atomic_write_bytes, shared_file_lock
from cryptoforecast.data.schema import check_interval, validate_candles
from cryptoforecast.data.sources.csv import CSVSource
from cryptoforecast.exceptions import DataError

__all__ = [
    "FILE_SOURCE",
    "ImportedCoin",
    "check_coin_id",
    "import_coin",
    "import_coins",
    "imported_candles",
]

#: the cache source (and the ``--source``) of candles read from files
FILE_SOURCE = "csv"


@dataclass(frozen=True)
class ImportedCoin:
    """What one import stored: the coin as catalogued, the interval and its candles."""

    coin: CatalogueCoin
    interval: str
    candles: pd.DataFrame
    replaced: bool


def check_coin_id(crypto_id: str) -> str:
    """``crypto_id`` as an imported coin's id, or a :class:`DataError` saying what to give."""
    key = crypto_id.strip().lower() if isinstance(crypto_id, str) else ""
    if not COIN_ID_PATTERN.match(key):
        raise DataError(
            f"coin id {crypto_id!r} is not a valid id for an imported coin: use lower-case "
            "letters, digits and '-' (e.g. mycoin), at most 64 characters"
        )
    clash = builtin_clash(key)
    if clash is not None:
        raise DataError(
            f"coin id {crypto_id!r} is the built-in asset {clash.id!r} ({clash.symbol}); "
            "imported coins need an id of their own so their candles are never mistaken for "
            f"the exchange's. Choose another id, e.g. my-{clash.id}."
        )
    return key


def _symbol_form(symbol: str) -> str:
    """``symbol`` in capitals, if it is 1 to 16 letters or digits and no built-in asset's."""
    sym = symbol.strip().upper()
    if not sym or not sym.isascii() or not sym.isalnum() or len(sym) > 16:
        raise DataError(
            f"symbol {symbol!r} is not a valid symbol: use 1 to 16 letters or digits (e.g. MYC)"
        )
    clash = builtin_clash(sym)
    if clash is not None:
        raise DataError(
            f"symbol {symbol!r} is the built-in asset {clash.id!r}'s; give the coin a symbol "
            "of its own with --symbol"
        )
    return sym


def _check_symbol(symbol: str, crypto_id: str, catalogue: Catalogue) -> str:
    sym = _symbol_form(symbol)
    for other in catalogue.coins.values():
        if other.id != crypto_id and sym in (other.symbol.upper(), other.id.upper()):
            raise DataError(
                f"symbol {symbol!r} is already the imported coin {other.id!r}'s; give the coin "
                "a symbol of its own with --symbol"
            )
    return sym


def import_coin(
    crypto_id: str,
    path: str | Path,
    interval: str = "1d",
    symbol: str | None = None,
    name: str | None = None,
    *,
    cache: CandleCache | None = None,
    now: datetime | None = None,
) -> ImportedCoin:
    """Validate the candles of ``path``, cache them under source ``csv`` and catalogue the coin.

    Raises:
        DataError: a bad id, symbol or interval, or a file the CSV source or the validator
            refuses (their message as it is); nothing stored changes.
    """
    cid = check_coin_id(crypto_id)
    check_interval(interval)
    if symbol is not None:  # before the file is read: a bad flag fails first
        _symbol_form(symbol)
    store = cache or CandleCache()
    asset = file_asset(cid)
    raw = CSVSource(path).fetch(asset, interval)
    candles = validate_candles(raw, interval, on_gap="raise", name=str(path))
    target = catalogue_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with shared_file_lock(target.with_name(f"{target.name}.lock"), store.lock_timeout):
        catalogue = read_catalogue(target)
        before = catalogue.coins.get(cid)
        sym = _check_symbol(
            symbol or (before.symbol if before else cid.replace("-", "")[:16]), cid, catalogue
        )
        info = SeriesInfo(
            rows=len(candles),
            first=candles.index[0].to_pydatetime(),
            last=candles.index[-1].to_pydatetime(),
        )
        coin = CatalogueCoin(
            id=cid,
            symbol=sym,
            name=name or (before.name if before else cid),
            intervals={**(before.intervals if before else {}), interval: info},
            imported_at=now or datetime.now(UTC),
        )
        updated = Catalogue(coins={**catalogue.coins, cid: coin})
        with store.lock(FILE_SOURCE, cid, interval):
            previous = store.read(FILE_SOURCE, cid, interval)
            store.write(candles, FILE_SOURCE, cid, interval)
            try:
                atomic_write_bytes(target, dump_catalogue(updated))
            except BaseException:  # the catalogue kept its old text: so do the candles
                with contextlib.suppress(OSError):
                    if previous is None:
                        store.path(FILE_SOURCE, cid, interval).unlink()
                    else:
                        store.write(previous, FILE_SOURCE, cid, interval)
                raise
    return ImportedCoin(coin, interval, candles, replaced=previous is not None)


def import_coins(
    files: Sequence[tuple[str, str | Path]],
    interval: str = "1d",
    *,
    cache: CandleCache | None = None,
) -> list[ImportedCoin]:
    """Import several ``(id, file)`` pairs as :func:`import_coin` does, after checking every id
    and validating every file first: one bad id or file is its :class:`DataError` and stores
    none of them (``serve --path``)."""
    ids = [check_coin_id(cid) for cid, _ in files]
    if len(set(ids)) < len(ids):
        raise DataError(
            f"two files for one coin id among {', '.join(ids)}: give each file its own id"
        )
    check_interval(interval)
    for cid, path in zip(ids, (p for _, p in files), strict=True):
        raw = CSVSource(path).fetch(file_asset(cid), interval)
        validate_candles(raw, interval, on_gap="raise", name=str(path))
    return [
        import_coin(cid, path, interval, cache=cache)
        for cid, path in zip(ids, (p for _, p in files), strict=True)
    ]


def imported_candles(
    crypto_id: str, interval: str, cache: CandleCache | None = None
) -> pd.DataFrame:
    """The cached candles of an imported coin, or a :class:`DataError` naming ``data import``."""
    clash = builtin_clash(crypto_id)
    if clash is not None:
        raise DataError(
            f"source 'csv' reads the built-in asset {clash.id!r} only from a CSV file: give it "
            "as path= (or use the snapshot or a live source)"
        )
    coin = read_catalogue().coins.get(crypto_id)
    frame = (cache or CandleCache()).read(FILE_SOURCE, crypto_id, interval) if coin else None
    if frame is None:
        what = "was not imported" if coin is None else f"has no {interval} candles imported"
        raise DataError(
            f"{crypto_id!r} {what}: source 'csv' reads a CSV file given as path=, or the "
            f"candles of a coin imported with `cryptoforecast data import {crypto_id} "
            f"FILE.csv --interval {interval}`"
        )
    return frame
