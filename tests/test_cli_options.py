"""Every command's help, and one wrong argument per option, answered by naming the flag.

The table below holds one wrong value for every option of every command; a test checks the table
covers them all, so a new option without a wrong-value case fails here. Nothing touches the
network: wrong values are refused before any download.
"""

from __future__ import annotations

import pytest
import typer

from cryptoforecast import __version__
from cryptoforecast.cli import app, main


def _commands() -> list[tuple[tuple[str, ...], object]]:
    found = []

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*path, name))
        else:
            found.append((path, cmd))

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = _commands()

# (command path, arguments a valid call needs, the option, its wrong value or None for "missing",
#  the flag the error must name). ``None`` as the value means: give the option without a value.
WRONG: list[tuple[tuple[str, ...], list[str], str, str | None]] = [
    (("train",), ["bitcoin", "--no-save"], "--model", "nosuch"),
    (("train",), ["bitcoin"], "--horizon", "30"),
    (("train",), ["bitcoin"], "--days", "0"),
    (("train",), ["bitcoin"], "--tune", "-1"),
    (("train",), ["bitcoin"], "--source", "nosuch"),
    (("train",), ["mycoin", "--source", "csv"], "--path", "/nonexistent/candles.csv"),
    (("train",), ["bitcoin"], "--end", "2030-01-01"),
    (("train",), ["bitcoin"], "--scheduler", "not an address"),
    (("train",), ["bitcoin"], "--all", "yes"),
    (("train",), ["bitcoin"], "--no-save", "yes"),
    (("train",), ["bitcoin"], "--no-distribution", "yes"),
    (("retrain",), [], "--older-than", "7x"),
    (("retrain",), ["--dry-run"], "--scheduler", "not an address"),
    (("retrain",), [], "--dry-run", "yes"),
    (("demo",), [], "--fast", "yes"),
    (("backtest",), ["bitcoin"], "--model", "nosuch"),
    (("backtest",), ["bitcoin"], "--horizon", "30"),
    (("backtest",), ["bitcoin"], "--report", None),
    (("backtest",), ["bitcoin"], "--days", "0"),
    (("backtest",), ["bitcoin"], "--initial-train-size", "0"),
    (("backtest",), ["bitcoin"], "--retrain-frequency", "0"),
    (("backtest",), ["bitcoin"], "--window", "rolling"),
    (("backtest",), ["bitcoin"], "--source", "nosuch"),
    (("backtest",), ["mycoin", "--source", "csv"], "--path", "/nonexistent/candles.csv"),
    (("backtest",), ["bitcoin"], "--end", "2030-01-01"),
    (("backtest",), ["bitcoin"], "--fee-bps", "-1"),
    (("backtest",), ["bitcoin"], "--intervals", "magic"),
    (("backtest",), ["bitcoin"], "--distribution", "normal"),
    (("backtest",), ["bitcoin"], "--served", "yes"),
    (("backtest",), ["bitcoin"], "--json", "yes"),
    (("serve",), [], "--host", "not a host!"),
    (("serve",), [], "--port", "70000"),
    (("serve",), [], "--source", "nosuch"),
    (("serve",), ["--source", "csv"], "--path", "no-such-file.csv"),
    (("serve",), [], "--log-level", "loud"),
    (("serve",), [], "--workers", "0"),
    (("forecast",), ["bitcoin"], "--horizon", "30"),
    (("forecast",), ["bitcoin"], "--source", "nosuch"),
    (("forecast",), ["mycoin", "--source", "csv"], "--path", "/nonexistent/candles.csv"),
    (("forecast",), ["bitcoin"], "--json", "yes"),
    (("forecast",), ["bitcoin"], "--quantiles", "yes"),
    (("forecast",), ["bitcoin"], "--refresh", "yes"),
    (("forecast",), ["bitcoin"], "--as-of", "nan"),
    (("check-leakage",), [], "--features", "no_such_module_here:fn"),
    (("check-leakage",), [], "--asset", "nosuchcoin"),
    (("check-leakage",), [], "--interval", "5m"),
    (("check-leakage",), [], "--cuts", "0"),
    (("check-leakage",), [], "--seed", "x"),
    (("check-leakage",), [], "--market", "nosuchcoin"),
    (("data", "list"), [], "--interval", "5m"),
    (("data", "list"), [], "--json", "yes"),
    (("data", "show"), ["bitcoin"], "--days", "0"),
    (("data", "show"), ["bitcoin"], "--interval", "5m"),
    (("data", "show"), ["bitcoin"], "--source", "nosuch"),
    (("data", "show"), ["bitcoin"], "--end", "2030-01-01"),
    (("data", "show"), ["bitcoin", "--source", "csv"], "--path", "/nonexistent/candles.csv"),
    (("data", "import"), ["mycoin", "/nonexistent/candles.csv"], "--interval", "5m"),
    (("data", "import"), ["mycoin", "/nonexistent/candles.csv"], "--symbol", "B!D"),
    (("data", "import"), ["mycoin", "/nonexistent/candles.csv"], "--name", None),
    (("data", "update"), ["bitcoin"], "--source", "nosuch"),
    (("data", "update"), ["bitcoin"], "--interval", "5m"),
    (("data", "update"), ["bitcoin"], "--all", "yes"),
    (("data", "update"), ["bitcoin"], "--full", "yes"),
    (("data", "update"), ["bitcoin"], "--base-url", "api.binance.us"),
    (("config", "show"), [], "--path", "/nonexistent/config.yaml"),
    (("config", "show"), [], "--schema", "yes"),
    (("registry", "list"), [], "--crypto", "Not A Coin!"),
    (("registry", "list"), [], "--model", "Not A Model!"),
    (("registry", "list"), [], "--horizon", "0"),
    (("registry", "list"), [], "--status", "retired"),
    (("registry", "list"), [], "--kind", "scale"),
    (("registry", "list"), [], "--json", "yes"),
    (("registry", "list"), [], "--ids", "yes"),
    (("registry", "list"), [], "--latest", "yes"),
    (("registry", "show"), ["1"], "--json", "yes"),
    (("registry", "promote"), ["1"], "--reason", None),
    (("registry", "promote"), ["1"], "--force", "yes"),
    (("registry", "demote"), ["1"], "--reason", None),
    (("registry", "rollback"), ["bitcoin"], "--model", "Not A Model!"),
    (("registry", "rollback"), ["bitcoin", "--model", "lightgbm"], "--horizon", "0"),
    (("registry", "rollback"), ["bitcoin", "--model", "lightgbm"], "--reason", None),
    (("registry", "rollback"), ["bitcoin", "--model", "lightgbm"], "--force", "yes"),
    (("registry", "history"), ["bitcoin"], "--model", "Not A Model!"),
    (("registry", "history"), ["bitcoin"], "--horizon", "0"),
    (("ledger", "score"), [], "--model", None),
    (("ledger", "score"), [], "--horizon", "0"),
    (("ledger", "score"), [], "--url", "nosuchdialect://x"),
    (("ledger", "score"), [], "--json", "yes"),
]


def _option_names(cmd: object) -> set[str]:
    return {
        p.opts[0]
        for p in cmd.params  # type: ignore[attr-defined]
        if type(p).__name__.endswith("Option") and p.opts[0] != "--help"
    }


def test_the_table_has_a_wrong_value_for_every_option() -> None:
    covered = {(path, flag) for path, _, flag, _ in WRONG}
    missing = [
        f"{' '.join(path)} {flag}"
        for path, cmd in COMMANDS
        for flag in sorted(_option_names(cmd))
        if (path, flag) not in covered
    ]
    assert not missing, f"options without a wrong-value case: {missing}"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
@pytest.mark.parametrize("help_flag", ["-h", "--help"])
def test_help_everywhere(
    path: tuple[str, ...], help_flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*path, help_flag]) == 0
    out = capsys.readouterr().out
    assert "Usage:" in out and " ".join(path) in " ".join(out.split())


def test_root_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-h"]) == 0
    assert "backtest" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cryptoforecast {__version__}"


@pytest.mark.parametrize(
    ("path", "args", "flag", "value"), WRONG, ids=[f"{' '.join(w[0])} {w[2]}" for w in WRONG]
)
def test_wrong_value_names_the_flag(
    path: tuple[str, ...],
    args: list[str],
    flag: str,
    value: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if value is None:
        argv = [*path, *args, flag]
    elif value == "yes":  # a switch given a value
        argv = [*path, *args, f"{flag}=yes"]
    else:
        argv = [*path, *args, flag, value]
    code = main(argv)
    captured = capsys.readouterr()
    text = " ".join((captured.err + captured.out).split())
    assert code != 0, f"{argv} exited 0: {text[:300]}"
    assert flag in text, f"{argv}: the error does not name {flag}: {text[:400]}"
    assert "Traceback" not in text
