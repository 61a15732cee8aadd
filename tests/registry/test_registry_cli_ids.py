"""`cryptoforecast registry list --ids` prints the matching ids for scripts, one a line, newest
first; `--latest` only the newest, and fails when nothing matches (an empty id would reach the
next command)."""

from __future__ import annotations

import pytest

from cryptoforecast.registry import model_registry
from tests.cli_runner import run
from tests.registry.registry_helpers import write_artifact


@pytest.fixture
def ids(cf_home):
    root = model_registry.artifact_root
    made = {}
    for name, coin, model_type, horizon in (
        ("btc-lgb-1a", "bitcoin", "lightgbm", 1),
        ("eth-lgb-1", "ethereum", "lightgbm", 1),
        ("btc-lgb-7", "bitcoin", "lightgbm", 7),
        ("btc-xgb-1", "bitcoin", "xgboost", 1),
        ("btc-lgb-1b", "bitcoin", "lightgbm", 1),
    ):
        made[name] = model_registry.register_model(
            model_type=model_type,
            crypto_id=coin,
            horizon=horizon,
            model_path=write_artifact(root, name),
        )
    model_registry.promote(made["btc-lgb-1a"], reason="by hand", force=True)
    return made


def _ids(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[int]:
    code, out, err = run(["registry", "list", *args], capsys)
    assert code == 0, err
    return [int(line) for line in out.splitlines()]


def test_ids_are_one_a_line_newest_first_and_honour_every_filter(ids, capsys) -> None:
    assert _ids(["--ids"], capsys) == sorted(ids.values(), reverse=True)
    btc_lgb_1 = ["--crypto", "bitcoin", "--model", "lightgbm", "--horizon", "1"]
    assert _ids([*btc_lgb_1, "--ids"], capsys) == [ids["btc-lgb-1b"], ids["btc-lgb-1a"]]
    assert _ids([*btc_lgb_1, "--status", "production", "--ids"], capsys) == [ids["btc-lgb-1a"]]
    assert _ids(["--crypto", "bitcoin", "-H", "7", "--ids"], capsys) == [ids["btc-lgb-7"]]
    assert _ids(["--kind", "distribution", "--ids"], capsys) == []


def test_latest_is_the_newest_match_only(ids, capsys) -> None:
    btc_lgb_1 = ["--crypto", "bitcoin", "--model", "lightgbm", "--horizon", "1"]
    assert _ids([*btc_lgb_1, "--ids", "--latest"], capsys) == [ids["btc-lgb-1b"]]
    code, out, err = run(["registry", "list", *btc_lgb_1, "--latest"], capsys)
    assert code == 0, err
    assert "(1)" in out and "btc-lgb" not in out
    assert out.count("bitcoin") == 1
    code, out, err = run(["registry", "list", *btc_lgb_1, "--latest", "--json"], capsys)
    assert code == 0, err
    assert '"model_id": ' + str(ids["btc-lgb-1b"]) in out
    assert '"model_id": ' + str(ids["btc-lgb-1a"]) not in out


def test_latest_without_a_match_fails_and_says_what_was_asked(ids, capsys) -> None:
    code, out, err = run(
        ["registry", "list", "--crypto", "solana", "--model", "lightgbm", "--ids", "--latest"],
        capsys,
    )
    assert code != 0
    assert out == ""
    text = " ".join(err.split())
    assert (
        "no registered model" in text and "--crypto solana" in text and "--model lightgbm" in text
    )
    assert "registry list" in text  # how to see what there is
