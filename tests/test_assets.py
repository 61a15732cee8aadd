from __future__ import annotations

import pytest

from cryptoforecast.assets import ASSETS, resolve_asset, snapshot_assets
from cryptoforecast.exceptions import DataError


@pytest.mark.parametrize("name", ["bitcoin", "BTC", "btc", "BTCUSDT", "btcusdt", " Bitcoin "])
def test_ids_and_symbols_resolve(name: str) -> None:
    assert resolve_asset(name).id == "bitcoin"


def test_required_assets_present() -> None:
    ids = {a.id for a in ASSETS}
    assert {
        "bitcoin",
        "ethereum",
        "binancecoin",
        "solana",
        "cardano",
        "dogecoin",
        "avalanche-2",
        "litecoin",
        "ripple",
        "chainlink",
    } <= ids
    assert len(snapshot_assets()) == 8
    assert resolve_asset("avalanche-2").binance_symbol == "AVAXUSDT"
    assert resolve_asset("XRP").id == "ripple"


@pytest.mark.parametrize("bad", ["", "notacoin", None, 42])
def test_unknown_ids(bad: object) -> None:
    with pytest.raises(DataError):
        resolve_asset(bad)  # type: ignore[arg-type]


def test_unknown_id_suggests_closest() -> None:
    with pytest.raises(DataError, match="Did you mean: .*solana"):
        resolve_asset("solanna")
