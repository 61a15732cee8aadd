from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cryptoforecast.config import Settings, load_config
from cryptoforecast.exceptions import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_yaml_file_equals_code_defaults() -> None:
    data = yaml.safe_load((REPO / "configs" / "model_config.yaml").read_text())
    assert Settings.model_validate(data) == Settings()
    assert set(data) == set(Settings.model_fields), "every section is written out in the YAML file"


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(environ={})
    assert cfg.horizons == [1, 3, 7, 14]
    assert cfg.cache.ttl_seconds == 300
    assert cfg.model_params("lightgbm")["num_leaves"] == 15
    assert cfg.model_params("naive") == {}


def test_environment_overrides_nested_keys_and_ignores_others() -> None:
    env = {
        "CRYPTOFORECAST_LSTM__EPOCHS": "7",
        "CRYPTOFORECAST_CACHE__TTL_SECONDS": "60",
        "CRYPTOFORECAST_HORIZONS": "[1, 7]",
        "CRYPTOFORECAST_HOME": "/somewhere",
        "UNRELATED": "x",
    }
    cfg = load_config(environ=env)
    assert cfg.lstm.epochs == 7
    assert cfg.cache.ttl_seconds == 60
    assert cfg.horizons == [1, 7]


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("lightgbm:\n  num_leaves: 31\n  learning_rate: 0.1\n")
    cfg = load_config(
        path,
        environ={"CRYPTOFORECAST_LIGHTGBM__NUM_LEAVES": "63"},
        overrides={"lightgbm": {"learning_rate": 0.05}},
    )
    assert cfg.lightgbm.num_leaves == 63
    assert cfg.lightgbm.learning_rate == 0.05
    assert cfg.lightgbm.n_estimators == 500


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "lightgbm:\n  learning_rate: -1\n",
            r"lightgbm\.learning_rate = -1: Input should be greater than 0",
        ),
        ("horizons: [1, 30]\n", r"horizons.*1 to 14"),
        ("ensemble:\n  meta: magic\n", r"ensemble\.meta = 'magic'.*'ridge', 'lgbm' or 'mean'"),
        ("lstm:\n  epoch: 3\n", r"lstm\.epoch = 3: Extra inputs are not permitted"),
        ("- just\n- a list\n", r"must hold a mapping"),
        ("lightgbm: [\n", r"not valid YAML"),
    ],
)
def test_bad_values_name_key_value_and_rule(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=pattern):
        load_config(path, environ={})


def test_bad_environment_value() -> None:
    with pytest.raises(ConfigError, match=r"cache\.ttl_seconds = -5"):
        load_config(environ={"CRYPTOFORECAST_CACHE__TTL_SECONDS": "-5"})


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config("/nonexistent/config.yaml", environ={})


def test_a_configs_folder_in_the_current_directory_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "model_config.yaml").write_text("cache:\n  ttl_seconds: 11\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={}).cache.ttl_seconds == 300


def test_search_order_and_config_show_says_what_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptoforecast.cli import main
    from cryptoforecast.config import config_sources

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("cache:\n  ttl_seconds: 42\n")
    named = tmp_path / "named.yaml"
    named.write_text("cache:\n  ttl_seconds: 7\n")
    env = {"CRYPTOFORECAST_HOME": str(home)}
    assert load_config(environ=env).cache.ttl_seconds == 42
    env["CRYPTOFORECAST_CONFIG"] = str(named)
    assert load_config(environ=env).cache.ttl_seconds == 7
    assert load_config(home / "config.yaml", environ=env).cache.ttl_seconds == 42
    env["CRYPTOFORECAST_LSTM__EPOCHS"] = "3"
    assert config_sources(environ=env)[1:] == [
        f"file: {named} (from the $CRYPTOFORECAST_CONFIG)",
        "environment: CRYPTOFORECAST_LSTM__EPOCHS",
    ]

    monkeypatch.setenv("CRYPTOFORECAST_HOME", str(home))
    monkeypatch.setenv("CRYPTOFORECAST_CACHE__TTL_SECONDS", "60")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert (
        f"# read: file: {home / 'config.yaml'} (from the $CRYPTOFORECAST_HOME/config.yaml)" in out
    )
    assert "# read: environment: CRYPTOFORECAST_CACHE__TTL_SECONDS" in out
    assert yaml.safe_load(out)["cache"]["ttl_seconds"] == 60
