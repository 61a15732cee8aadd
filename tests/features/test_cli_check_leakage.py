"""`cryptoforecast check-leakage`: passes on the built-in features, fails (exit 1) on a leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoforecast.cli import main

LEAKY = """
import pandas as pd

def tomorrow(ohlcv: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"next_close": ohlcv["close"].shift(-1) / ohlcv["close"]})

def honest(ohlcv: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"prev_ret": ohlcv["close"].pct_change()})
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "my_features.py"
    path.write_text(LEAKY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return path


def test_builtin_features_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-leakage", "--asset", "bitcoin", "--asset", "solana", "--cuts", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "No look-ahead found" in out and "solana" in out


def test_leaky_user_function_fails_with_its_name(
    user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["check-leakage", "--features", "my_features:tomorrow", "-a", "ethereum", "--cuts", "3"]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "next_close" in captured.out and "next_close" in captured.err


def test_file_path_spec_and_honest_function(
    user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["check-leakage", "--features", f"{user_module}:honest", "-a", "bitcoin", "--cuts", "3"]
    )
    assert code == 0, capsys.readouterr()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "must look like"),
        ("nosuchmodule_xyz:f", "cannot import"),
        ("my_features:nope", "no function"),
    ],
)
def test_bad_feature_specs_explain_themselves(
    user_module: Path, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    assert main(["check-leakage", "--features", spec, "-a", "bitcoin", "--cuts", "1"]) == 1
    assert message in capsys.readouterr().err
