"""A candle cache shared by two service users of one group (SECURITY.md, deployment step 4).

The cache's files follow the umask (``umask 0027``: the group may read them), but every user who
may read the cache must also be able to take its locks: a lock file of mode 0640 made
``forecast --source binance`` of the second user fail with a raw ``PermissionError``. A lock or a
write the process is not allowed is a :class:`DataError` that names the kind of file and the fix,
never an absolute path.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.data import CandleCache
from cryptoforecast.data.cache import shared_lock_mode
from cryptoforecast.data.live import refresh_series
from cryptoforecast.exceptions import CacheError

from ..live_servers import shared_candles, use_binance_server
from ..second_user import OTHER_UID, as_root_only, run_as_other_user, shared_home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_0027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def frame(btc_daily: pd.DataFrame) -> pd.DataFrame:
    return btc_daily.iloc[-30:]


def test_lock_files_are_writable_by_the_group_that_may_read_the_cache(
    tmp_path: Path, umask_0027: None, frame: pd.DataFrame
) -> None:
    cache = CandleCache(tmp_path)
    written = cache.write(frame, "binance", "bitcoin", "1d")
    assert mode(written) == 0o640  # the candles follow the umask: the group reads them
    assert mode(Path(f"{written}.lock")) == 0o660  # and may take the lock to update them


@pytest.mark.parametrize(
    ("umask", "expected"),
    [(0o022, 0o666), (0o027, 0o660), (0o007, 0o660), (0o077, 0o600), (0o037, 0o660)],
)
def test_the_lock_mode_gives_write_access_to_whoever_may_read(
    tmp_path: Path, umask: int, expected: int
) -> None:
    old = os.umask(umask)
    try:
        assert shared_lock_mode() == expected
        with CandleCache(tmp_path).lock("binance", "bitcoin", "1d"):
            pass
    finally:
        os.umask(old)
    assert mode(tmp_path / "binance" / "bitcoin_1d.parquet.lock") == expected


def test_a_lock_file_left_with_mode_0640_by_an_earlier_release_is_opened_up(
    tmp_path: Path, umask_0027: None
) -> None:
    lock = tmp_path / "binance" / "bitcoin_1d.parquet.lock"
    lock.parent.mkdir()
    lock.touch(mode=0o640)
    os.chmod(lock, 0o640)
    with CandleCache(tmp_path).lock("binance", "bitcoin", "1d"):
        pass
    assert mode(lock) == 0o660


def _deny(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Make ``os.open`` and ``mkstemp`` refuse files ending in ``suffix`` as the kernel would."""
    real_open = os.open

    def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(suffix):
            raise PermissionError(13, "Permission denied", str(path))
        return int(real_open(path, flags, *args, **kwargs))

    monkeypatch.setattr(os, "open", fake_open)


def test_a_lock_this_user_may_not_take_is_a_clear_error_without_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deny(monkeypatch, ".parquet.lock")
    with (
        pytest.raises(CacheError) as caught,
        CandleCache(tmp_path).lock("binance", "bitcoin", "1d"),
    ):
        pytest.fail("the lock was taken")
    # the server's state, not the request: a service answers 503 with the series only
    assert caught.value.public == "the binance bitcoin 1d candles cannot be updated by this service"
    message = str(caught.value)
    assert "lock file" in message and "binance bitcoin 1d" in message
    assert "group write" in message  # the fix
    assert str(tmp_path) not in message  # may reach an HTTP answer: no absolute path


def test_a_cache_directory_this_user_may_not_write_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frame: pd.DataFrame
) -> None:
    cache = CandleCache(tmp_path)
    _deny(monkeypatch, ".tmp")  # mkstemp's temporary file beside the candles
    with pytest.raises(CacheError) as caught:
        cache.write(frame, "binance", "bitcoin", "1d")
    message = str(caught.value)
    assert "cannot write" in message and "binance bitcoin 1d" in message
    assert "group write" in message and str(tmp_path) not in message
    assert not cache.path("binance", "bitcoin", "1d").exists()  # nothing half written


# -- two real users ---------------------------------------------------------------------------


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with shared_home() as path:
        monkeypatch.setenv("CRYPTOFORECAST_HOME", str(path))
        yield path


def forecast_as_other_user(home: Path) -> tuple[int, str, str]:
    """``cryptoforecast forecast bitcoin --source binance --json`` run by the second user."""
    from cryptoforecast.cli import main

    return run_as_other_user(
        lambda: main(["forecast", "bitcoin", "--source", "binance", "--json"]), home
    )


@as_root_only
def test_a_second_user_of_the_group_forecasts_from_the_shared_cache(
    home: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's deployment: root fills the cache with umask 0027, the second user forecasts.

    Without group write on the cache's directories its refresh cannot write and is reported as
    such (the forecast comes from the cache); with group write it refreshes the shared cache."""
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-28"))
    warm_up(home.parent / "warm", monkeypatch)
    result = refresh_series_for("bitcoin")
    candles_dir = result.parent
    assert mode(candles_dir) & 0o070 == 0o050  # group read, as umask 0027 leaves it
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-30"))

    code, out, err = forecast_as_other_user(home)
    assert code == 0, err
    assert "PermissionError" not in err and "Traceback" not in err
    assert "could not refresh bitcoin" in err and "group write" in err
    (forecast,) = json.loads(out)["forecasts"]
    assert forecast["as_of"].startswith("2025-09-28")  # from the cache, as it was

    os.chmod(candles_dir, mode(candles_dir) | 0o020)  # the fix the message names
    code, out, err = forecast_as_other_user(home)
    assert code == 0, err
    assert "could not refresh" not in err
    (forecast,) = json.loads(out)["forecasts"]
    assert forecast["as_of"].startswith("2025-09-30")  # the second user refreshed the cache
    assert result.stat().st_uid == OTHER_UID and mode(result) == 0o640  # still group-readable


def warm_up(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the same forecast once as root in another home, so every module it needs is loaded."""
    from cryptoforecast.cli import main

    shared = os.environ["CRYPTOFORECAST_HOME"]
    monkeypatch.setenv("CRYPTOFORECAST_HOME", str(home))
    assert main(["forecast", "bitcoin", "--source", "binance", "--json"]) == 0
    main(["forecast", "notacoin"])  # the error path's modules too
    monkeypatch.setenv("CRYPTOFORECAST_HOME", shared)


def refresh_series_for(crypto_id: str) -> Path:
    from cryptoforecast.assets import resolve_asset

    return refresh_series(resolve_asset(crypto_id), "1d", "binance").path
