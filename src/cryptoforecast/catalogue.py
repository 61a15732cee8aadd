"""The user catalogue: coins imported from files with ``cryptoforecast data import``.

One JSON file, ``$CRYPTOFORECAST_HOME/coins.json``, validated with pydantic whenever it is read;
the import (:mod:`cryptoforecast.data.user_coins`) writes it atomically. A coin of the catalogue
is known to :func:`cryptoforecast.assets.resolve_asset` like a built-in asset, and its candles
are read from the candle cache under source ``csv``. Reading it here is a plain ``stat`` while
the file is unchanged: it is parsed again only when it changes.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cryptoforecast.exceptions import DataError
from cryptoforecast.paths import home_dir

__all__ = [
    "CATALOGUE_FILE",
    "COIN_ID_PATTERN",
    "Catalogue",
    "CatalogueCoin",
    "SeriesInfo",
    "catalogue_path",
    "dump_catalogue",
    "read_catalogue",
]

CATALOGUE_FILE = "coins.json"
#: an imported coin's id: a lower-case slug (it names files of the candle cache)
COIN_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_FIX = (
    "Fix or delete the file, then import the coins again with "
    "`cryptoforecast data import COIN FILE`."
)


class SeriesInfo(BaseModel):
    """One imported interval of a coin: how many candles, the first and the last."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: int = Field(ge=1)
    first: datetime
    last: datetime


class CatalogueCoin(BaseModel):
    """One imported coin: its id, symbol and name, and each imported interval."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=COIN_ID_PATTERN.pattern)
    symbol: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=100)
    intervals: dict[str, SeriesInfo]
    imported_at: datetime


class Catalogue(BaseModel):
    """The whole file: the imported coins by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    coins: dict[str, CatalogueCoin] = Field(default_factory=dict)


def catalogue_path() -> Path:
    """Where the catalogue lives (under ``$CRYPTOFORECAST_HOME``, read on every call)."""
    return home_dir(create=False) / CATALOGUE_FILE


_memo: dict[Path, tuple[tuple[int, int], Catalogue]] = {}
_memo_lock = threading.Lock()


def _named(path: Path) -> str:
    """The catalogue as messages name it: never its absolute path (a message can reach an
    anonymous HTTP answer through an id that is resolved)."""
    where = "$CRYPTOFORECAST_HOME" if path == catalogue_path() else "its directory"
    return f"the coin catalogue ({path.name} in {where})"


def _parse(path: Path, data: bytes) -> Catalogue:
    try:
        catalogue = Catalogue.model_validate_json(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise DataError(f"{_named(path)} is not valid ({problems}). {_FIX}") from None
    for key, coin in catalogue.coins.items():
        if key != coin.id:
            raise DataError(f"{_named(path)} files coin {coin.id!r} under {key!r}. {_FIX}")
    return catalogue


def read_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue (empty when no coin was imported).

    Raises:
        DataError: the file is not a valid catalogue (the message names it and the fix).
    """
    target = catalogue_path() if path is None else path
    try:
        info = target.stat()
    except FileNotFoundError:
        return Catalogue()
    stamp = (info.st_mtime_ns, info.st_size)
    with _memo_lock:
        kept = _memo.get(target)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise DataError(
            f"{_named(target)} cannot be read ({exc.strerror}). Check its permissions."
        ) from None
    catalogue = _parse(target, data)
    with _memo_lock:
        _memo[target] = (stamp, catalogue)
    return catalogue


def dump_catalogue(catalogue: Catalogue) -> bytes:
    """The file's bytes for ``catalogue`` (what :func:`read_catalogue` reads back)."""
    return catalogue.model_dump_json(indent=2).encode() + b"\n"
