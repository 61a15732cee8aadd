"""Config inputs that used to raise raw Python errors, or were accepted, are ConfigErrors that
name the key, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import ConfigError


def test_a_non_utf8_file_or_a_directory_is_a_config_error(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("demo:\n  crypto_id: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.yaml is not UTF-8 text .*save it as UTF-8"):
        load_config(latin, environ={})
    with pytest.raises(ConfigError, match="is a directory; pass the YAML file itself"):
        load_config(tmp_path, environ={})


@pytest.mark.parametrize(
    "environ",
    [
        {"CRYPTOFORECAST_LIGHTGBM": "5", "CRYPTOFORECAST_LIGHTGBM__NUM_LEAVES": "3"},
        {"CRYPTOFORECAST_LIGHTGBM__NUM_LEAVES": "3", "CRYPTOFORECAST_LIGHTGBM": "5"},
    ],
)
def test_a_section_set_whole_and_by_key_names_both_variables(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ=environ)
    text = str(info.value)
    assert (
        "CRYPTOFORECAST_LIGHTGBM " in text + " " and "CRYPTOFORECAST_LIGHTGBM__NUM_LEAVES" in text
    )
    assert "'lightgbm'" in text


def test_a_section_set_to_a_scalar_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"lightgbm = 5: .*dictionary"):
        load_config(environ={"CRYPTOFORECAST_LIGHTGBM": "5"})


@pytest.mark.parametrize(
    ("key", "value", "pattern"),
    [
        ("DEMO__HORIZONS", "[0, -1, 10000]", r"demo.horizons = \[0, -1, 10000\].*from 1 to 14"),
        ("DEMO__HORIZONS", "[]", r"demo.horizons = \[\].*non-empty"),
        ("DEMO__CRYPTO_ID", "../../etc", r"demo.crypto_id = '../../etc'.*Known ids: bitcoin"),
        ("BACKTEST__INTERVAL_COVERAGE", "[]", r"backtest.interval_coverage = \[\].*at least one"),
    ],
)
def test_out_of_range_values_are_refused(key: str, value: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_config(environ={f"CRYPTOFORECAST_{key}": value})
