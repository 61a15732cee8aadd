"""Every time a command takes (``--end``, ``--as-of``) goes through the one parser of
``cryptoforecast.data.times``: the same refusals, naming the flag, the value and the forms."""

from __future__ import annotations

import pytest

from cryptoforecast.cli import main

COMMANDS = [
    ["data", "show", "bitcoin", "--days", "3"],
    ["backtest", "bitcoin", "-m", "naive"],
    ["train", "bitcoin", "--no-save"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("value", ["nan", "NaT", "", "-1", "now", "2025-02-30"])
def test_a_bad_end_is_refused_by_name(
    command: list[str], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*command, "--end", value])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert f"--end {value!r} is not a date or date-time" in err
    assert "2025-01-01T12:00" in err and "AttributeError" not in err


def test_a_good_end_still_names_the_last_day(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "show", "bitcoin", "--days", "2", "--end", "2025-01-01T12:00"]) == 0
    out = capsys.readouterr().out
    assert "2025-01-01" in out and "2025-01-02" not in out
