"""Coins of the user's own: ``data import`` validates a file, caches its candles under source
``csv`` and catalogues the coin; a bad file changes nothing; the id resolves everywhere."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from cryptoforecast.assets import resolve_asset
from cryptoforecast.catalogue import catalogue_path, read_catalogue
from cryptoforecast.data import CandleCache, import_coin, load_ohlcv
from cryptoforecast.exceptions import DataError
from tests.cli_runner import run


def write_candles(
    path: Path, crypto_id: str = "litecoin", interval: str = "1d", days: int = 400
) -> Path:
    """A CSV of a snapshot coin's last ``days`` candles, in the shared file format."""
    frame = load_ohlcv(crypto_id, interval=interval).iloc[-days:]
    out = frame[["open", "high", "low", "close", "volume"]].copy()
    out.index = out.index.strftime("%Y-%m-%dT%H:%M:%SZ").rename("open_time")
    out.to_csv(path)
    return path


def stored_files(root: Path) -> dict[str, str]:
    """Every file under ``root`` (locks aside) by its sha256: what a failed step must not change."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def test_import_caches_candles_and_catalogues_the_coin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write_candles(tmp_path / "mycoin.csv")
    code, out, err = run(["data", "import", "mycoin", str(csv), "--symbol", "myc"], capsys)
    assert code == 0, err
    assert "imported 400 1d candles of mycoin (MYC)" in out
    coin = read_catalogue().coins["mycoin"]
    assert coin.symbol == "MYC" and coin.name == "mycoin"
    assert coin.intervals["1d"].rows == 400
    cached = CandleCache().read("csv", "mycoin", "1d")
    assert cached is not None and len(cached) == 400
    expected = load_ohlcv("litecoin").iloc[-400:]
    assert coin.intervals["1d"].last == expected.index[-1].to_pydatetime()
    # the id and the symbol resolve; --source csv without a file reads the imported candles
    assert resolve_asset("MYC").id == resolve_asset("mycoin").id == "mycoin"
    frame = load_ohlcv("mycoin", source="csv")
    pd.testing.assert_series_equal(frame["close"], expected["close"], check_freq=False)
    assert load_ohlcv("myc", source="csv", end="2025-01-01").index[-1] == pd.Timestamp(
        "2025-01-01", tz="UTC"
    )


def test_bad_file_changes_nothing_cached_or_catalogued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cf_home: Path
) -> None:
    good = write_candles(tmp_path / "good.csv")
    assert run(["data", "import", "mycoin", str(good)], capsys)[0] == 0
    before = stored_files(cf_home)
    bad = tmp_path / "bad.csv"
    text = good.read_text().splitlines()
    text[5] = text[5].replace(text[5].split(",")[4], "-1")  # a negative close
    bad.write_text("\n".join(text) + "\n")
    code, out, err = run(["data", "import", "mycoin", str(bad)], capsys)
    assert code != 0
    with pytest.raises(DataError) as validator:  # the validator's own words reach the user
        import_coin("othercoin", bad)
    first_line = str(validator.value).split(".")[0]
    assert first_line in " ".join(err.split()), err
    assert stored_files(cf_home) == before
    assert "othercoin" not in read_catalogue().coins


def test_reimport_replaces_and_a_4h_file_adds_its_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_coin("mycoin", write_candles(tmp_path / "a.csv", days=300))
    done = import_coin("mycoin", write_candles(tmp_path / "b.csv", days=200))
    assert done.replaced and len(load_ohlcv("mycoin", source="csv")) == 200
    import_coin("mycoin", write_candles(tmp_path / "c.csv", interval="4h", days=600), "4h")
    coin = read_catalogue().coins["mycoin"]
    assert set(coin.intervals) == {"1d", "4h"} and coin.intervals["1d"].rows == 200
    assert len(load_ohlcv("mycoin", source="csv", interval="4h")) == 600
    code, out, _ = run(["data", "list", "--json"], capsys)
    rows = json.loads(out)["imported"]
    assert {(r["id"], r["source"], r["interval"], r["rows"]) for r in rows} == {
        ("mycoin", "csv", "1d", 200),
        ("mycoin", "csv", "4h", 600),
    }
    code, out, _ = run(["data", "list"], capsys)
    assert code == 0 and "Imported coins" in out and "mycoin" in out


@pytest.mark.parametrize(
    ("coin", "symbol", "match"),
    [
        ("bitcoin", None, r"built-in asset 'bitcoin'.*Choose another id"),
        ("BTC", None, r"built-in asset 'bitcoin'"),
        ("ethusdt", None, r"built-in asset 'ethereum'"),
        ("../x", None, r"not a valid id"),
        ("mycoin", "ETH", r"symbol 'ETH' is the built-in asset 'ethereum'"),
    ],
)
def test_ids_of_built_in_assets_and_bad_ids_are_refused(
    tmp_path: Path, coin: str, symbol: str | None, match: str, cf_home: Path
) -> None:
    csv = write_candles(tmp_path / "c.csv", days=50)
    with pytest.raises(DataError, match=match):
        import_coin(coin, csv, symbol=symbol)
    assert not catalogue_path().exists() and CandleCache().entries() == []


def test_unknown_ids_and_missing_imports_name_data_import(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"unknown asset id 'mycoin'.*data import mycoin"):
        resolve_asset("mycoin")
    with pytest.raises(DataError, match=r"unknown asset id 'mycoin'.*data import mycoin"):
        load_ohlcv("mycoin", source="csv")
    with pytest.raises(DataError, match=r"built-in asset 'ripple' only from a CSV file"):
        load_ohlcv("ripple", source="csv")
    import_coin("mycoin", write_candles(tmp_path / "c.csv", days=50))
    with pytest.raises(DataError, match=r"'mycoin' has no 4h candles imported.*--interval 4h"):
        load_ohlcv("mycoin", source="csv", interval="4h")


def test_a_file_reads_under_any_id_and_path_needs_source_csv(tmp_path: Path) -> None:
    csv = write_candles(tmp_path / "x.csv", days=100)
    frame = load_ohlcv("othercoin", source="csv", path=csv)
    assert len(frame) == 100 and frame.attrs["crypto_id"] == "othercoin"
    assert "othercoin" not in read_catalogue().coins
    with pytest.raises(DataError, match=r"source='csv'"):
        load_ohlcv("bitcoin", path=csv)


def test_a_damaged_catalogue_is_a_clear_error(cf_home: Path) -> None:
    catalogue_path().write_text('{"version": 1, "coins": {"x": {"id": 3}}}')
    with pytest.raises(
        DataError, match=r"coin catalogue .*coins.json.* not valid.*data import"
    ) as err:
        resolve_asset("nothing-like-it")
    assert str(cf_home) not in str(err.value)  # it can reach an anonymous 404: no path
    assert resolve_asset("bitcoin").id == "bitcoin"  # built-ins never read the file


def test_a_catalogue_write_that_fails_leaves_the_candles_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cf_home: Path
) -> None:
    from cryptoforecast.data import user_coins

    import_coin("mycoin", write_candles(tmp_path / "a.csv", days=300))
    before = stored_files(cf_home)

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(user_coins, "atomic_write_bytes", disk_full)
    with pytest.raises(OSError, match="No space"):
        import_coin("mycoin", write_candles(tmp_path / "b.csv", days=200))
    with pytest.raises(OSError, match="No space"):
        import_coin("newcoin", write_candles(tmp_path / "c.csv", days=200))
    assert stored_files(cf_home) == before
    assert len(load_ohlcv("mycoin", source="csv")) == 300
